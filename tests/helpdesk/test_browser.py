"""End to end in headless Chromium: two people chat live, and a ticket goes from a customer's
form to an agent's live queue, is assigned, resolved and rated. Screenshots are saved under
test-artifacts/helpdesk/."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from examples.helpdesk.config import PusherSettings, Settings
from examples.helpdesk.db import utcnow
from tests.helpdesk.conftest import PASSWORD, PEOPLE, add_people, free_port, run_sync
from tests.helpdesk.stack import Stack
from tests.services import ROOT, require_chromium, require_node

pytestmark = [pytest.mark.browser, pytest.mark.node, pytest.mark.timeout(400)]
ARTIFACTS = ROOT / "test-artifacts" / "helpdesk"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-quic",
    "--disable-component-update",
    "--disable-sync",
]
CHARTS_DRAWN = (
    "return ['chart-tickets', 'chart-ratings', 'chart-chat']"
    ".map((id) => Boolean(Chart.getChart(id)))"
)
PHONE = (390, 844)
DESKTOP = (1280, 900)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Stack, dict[str, int]]]:
    require_node()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'e2e.sqlite3'}",
        pusher=PusherSettings(port=free_port()),
        auto_assign=False,
    )
    ids = run_sync(add_people(settings.database_url, utcnow()))
    with Stack(settings, ui=True) as running:
        yield running, ids


@pytest.fixture
def browsers(tmp_path: Path) -> Iterator[Callable[[tuple[int, int]], Any]]:
    chromium, driver_path = require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opened: list[Any] = []

    def open_browser(size: tuple[int, int]) -> Any:
        options = webdriver.ChromeOptions()
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}")
        if size == PHONE:
            # A headless window is never narrower than 500 px: emulate the phone's viewport.
            metrics = {"width": size[0], "height": size[1], "pixelRatio": 2}
            options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
        else:
            options.add_argument(f"--window-size={size[0]},{size[1]}")
        options.binary_location = chromium
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        driver.set_page_load_timeout(60)
        opened.append(driver)
        return driver

    try:
        yield open_browser
    finally:
        for driver in opened:
            driver.quit()


def wait(driver: Any, condition: Callable[[Any], Any], timeout: float = 60) -> Any:
    """Wait for ``condition`` (generously: the machine may be loaded); on timeout keep a
    screenshot and say what the page showed."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)
    except TimeoutException:
        shoot(driver, "timeout")
        page = text_of("body")(driver)
        raise AssertionError(
            f"timed out at {driver.current_url}; the page showed:\n{page}"
        ) from None


def css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def text_of(selector: str) -> Callable[[Any], str]:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    def read(driver: Any) -> str:
        try:
            return str(css(driver, selector).text)
        except (NoSuchElementException, StaleElementReferenceException):
            return ""

    return read


def _flaky() -> tuple[type[Exception], ...]:
    from selenium.common.exceptions import (
        ElementClickInterceptedException,
        ElementNotInteractableException,
        NoSuchElementException,
        StaleElementReferenceException,
    )

    return (
        ElementClickInterceptedException,
        ElementNotInteractableException,
        NoSuchElementException,
        StaleElementReferenceException,
    )


def click(driver: Any, selector: str) -> None:
    """Click ``selector`` once it can be clicked: a live update may redraw the view between
    finding the element and clicking it, and a toast may briefly cover it."""

    def attempt(d: Any) -> bool:
        try:
            css(d, selector).click()
        except _flaky():
            return False
        return True

    wait(driver, attempt)


def type_into(driver: Any, selector: str, text: str) -> None:
    """Make the field at ``selector`` hold exactly ``text``, typing again if a redraw ate it."""

    def attempt(d: Any) -> bool:
        try:
            field = css(d, selector)
            if field.get_attribute("value") != text:
                field.clear()
                field.send_keys(text)
            return bool(field.get_attribute("value") == text)
        except _flaky():
            return False

    wait(driver, attempt)


def subscribed(channel: str) -> Callable[[Any], bool]:
    """The page's pusher-js connection is subscribed to ``channel``."""
    script = (
        "const c = state.echo && state.echo.connector.pusher.channel(arguments[0]);"
        "return Boolean(c && c.subscribed);"
    )
    return lambda d: bool(d.execute_script(script, channel))


def sign_in(driver: Any, base_url: str, who: str) -> None:
    driver.get(base_url + "/#/login")
    type_into(driver, "#email", PEOPLE[who][0])
    type_into(driver, "#password", PASSWORD)
    click(driver, "#sign-in")
    wait(driver, lambda d: PEOPLE[who][1] in text_of("#me-name")(d))
    # Signed in and connected: the presence channel counts this browser.
    wait(driver, lambda d: text_of("#online-count")(d) not in ("", "0 online"))


def shoot(driver: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def fits_phone(driver: Any) -> None:
    """At phone width the page is the phone's width: nothing makes it scroll sideways."""
    width, inner, scroll = driver.execute_script(
        "return [screen.width, window.innerWidth, document.documentElement.scrollWidth]"
    )
    assert inner == PHONE[0] and scroll <= inner, (width, inner, scroll)


def test_buyer_and_seller_chat_live_with_typing_and_read_receipts(
    stack: Any, browsers: Any
) -> None:
    running, ids = stack
    with httpx.Client(base_url=running.base_url) as http:
        token = http.post(
            "/api/login", json={"email": PEOPLE["buyer"][0], "password": PASSWORD}
        ).json()["token"]
        cid = http.post(
            "/api/conversations",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "kind": "trade",
                "subject": "Vintage lamp",
                "reference": "product:17",
                "counterpart_id": ids["seller"],
            },
        ).json()["id"]
    buyer, seller = browsers(DESKTOP), browsers(PHONE)
    sign_in(buyer, running.base_url, "buyer")
    sign_in(seller, running.base_url, "seller")
    for driver in (buyer, seller):
        driver.get(f"{running.base_url}/#/chat/{cid}")
        wait(driver, lambda d: css(d, "#message-input"))
        wait(driver, subscribed(f"private-conversation.{cid}"))
    # Each sees the other online on the conversation header.
    seller_dot = f"[data-user-dot='{ids['seller']}']"
    wait(buyer, lambda d: "on" in css(d, seller_dot).get_attribute("class").split())

    from selenium.webdriver.common.keys import Keys

    type_into(buyer, "#message-input", "Is the lamp still available?")

    def seller_sees_typing(d: Any) -> bool:
        if "Bea Buyer is typing" in text_of("[data-testid=typing]")(d):
            return True
        # Keep typing (the page whispers at most once a second), leaving the text as it is.
        css(buyer, "#message-input").send_keys(" " + Keys.BACKSPACE)
        return False

    wait(seller, seller_sees_typing)
    shoot(seller, "chat-seller-sees-typing")
    click(buyer, "#send")
    wait(seller, lambda d: "Is the lamp still available?" in text_of("[data-testid=messages]")(d))
    # The seller's window is open on the conversation, so it reads the message: a receipt.
    wait(buyer, lambda d: "Read" in text_of(".bubble.mine [data-testid=receipt]")(d))
    shoot(buyer, "chat-buyer-sees-read-receipt")

    type_into(seller, "#message-input", "Yes, ships tomorrow.")
    click(seller, "#send")
    wait(buyer, lambda d: "Yes, ships tomorrow." in text_of("[data-testid=messages]")(d))
    # The buyer's message cleared the seller's typing indicator.
    wait(seller, lambda d: "Bea Buyer is typing" not in text_of("[data-testid=typing]")(d))
    fits_phone(seller)
    shoot(seller, "chat-seller-phone-width")
    shoot(buyer, "chat-buyer-conversation")


def test_a_new_ticket_reaches_the_live_queue_and_is_assigned_resolved_and_rated(
    stack: Any, browsers: Any
) -> None:
    from selenium.webdriver.support.ui import Select

    running, _ids = stack
    agent, buyer = browsers(DESKTOP), browsers(PHONE)
    sign_in(agent, running.base_url, "agent")
    wait(agent, lambda d: css(d, "[data-testid=queue]"))
    sign_in(buyer, running.base_url, "buyer")
    buyer.get(running.base_url + "/#/tickets")
    click(buyer, "#new-ticket")
    type_into(buyer, "#ticket-subject", "Parcel never arrived")
    Select(css(buyer, "#ticket-category")).select_by_value("shipping")
    Select(css(buyer, "#ticket-priority")).select_by_value("high")
    type_into(buyer, "#ticket-description", "Order 1042 shows delivered, but nothing came.")
    fits_phone(buyer)
    shoot(buyer, "ticket-buyer-form-phone-width")
    click(buyer, "#submit-ticket")
    wait(buyer, lambda d: "Parcel never arrived" in text_of("[data-testid=ticket-title]")(d))
    ticket_id = buyer.current_url.rsplit("/", 1)[1]

    # The agent's queue changes live, without a reload.
    wait(agent, lambda d: "Parcel never arrived" in text_of("[data-testid=queue]")(d))
    shoot(agent, "ticket-agent-queue-live")
    click(agent, f"[data-ticket='{ticket_id}']")
    wait(agent, lambda d: css(d, "#assign"))
    # Presence: the agent sees the customer viewing the ticket, and the customer the agent.
    wait(agent, lambda d: "Bea Buyer" in text_of("[data-testid=viewers]")(d))
    wait(buyer, lambda d: "Ada Agent" in text_of("[data-testid=viewers]")(d))
    click(agent, "#assign")
    wait(agent, lambda d: "assigned to Ada Agent" in text_of("[data-testid=assignee]")(d))
    wait(buyer, lambda d: "assigned to Ada Agent" in text_of("[data-testid=assignee]")(d))
    type_into(agent, "#comment-body", "Sorry! A replacement is on its way.")
    click(agent, "#add-comment")
    wait(buyer, lambda d: "replacement is on its way" in text_of("[data-testid=comments]")(d))
    click(agent, "[data-status=resolved]")
    # The status pill is capitalised by CSS, and Selenium reads rendered text.
    wait(buyer, lambda d: text_of("[data-testid=ticket-status]")(d).lower() == "resolved")
    wait(buyer, lambda d: css(d, "#rating"))
    Select(css(buyer, "#rating")).select_by_value("5")
    type_into(buyer, "#rating-comment", "Fast and kind")
    click(buyer, "#rate")
    wait(agent, lambda d: "Fast and kind" in text_of("[data-testid=rating-shown]")(d))
    shoot(agent, "ticket-agent-sees-rating")
    fits_phone(buyer)
    shoot(buyer, "ticket-buyer-rated-phone-width")
    assert css(agent, "[data-testid=sla-first_response]").get_attribute("class") == "sla-met"


def test_the_reports_page_draws_its_figures_and_charts_from_local_files(
    stack: Any, browsers: Any
) -> None:
    from selenium.webdriver.support.ui import Select

    running, ids = stack
    with httpx.Client(base_url=running.base_url, timeout=30) as http:

        def call(who: str, method: str, path: str, body: dict[str, Any]) -> Any:
            if who not in tokens:
                login = {"email": PEOPLE[who][0], "password": PASSWORD}
                tokens[who] = http.post("/api/login", json=login).json()["token"]
            answer = http.request(
                method, path, headers={"Authorization": f"Bearer {tokens[who]}"}, json=body
            )
            assert answer.status_code in (200, 201), answer.text
            return answer.json()

        tokens: dict[str, str] = {}
        for subject, category, rating in (("Late parcel", "shipping", 4), ("Refund", "payment", 2)):
            ticket = {"subject": subject, "category": category, "priority": "normal"}
            tid = call("buyer", "POST", "/api/tickets", {**ticket, "description": "d"})["id"]
            call("agent", "POST", f"/api/tickets/{tid}/assign", {"agent_id": ids["agent"]})
            call("agent", "POST", f"/api/tickets/{tid}/comments", {"body": "On it."})
            call("agent", "POST", f"/api/tickets/{tid}/status", {"status": "resolved"})
            call("buyer", "POST", f"/api/tickets/{tid}/rating", {"rating": rating})

    for size, name in ((DESKTOP, "reports-desktop"), (PHONE, "reports-phone-width")):
        agent = browsers(size)
        sign_in(agent, running.base_url, "agent")
        agent.get(running.base_url + "/#/reports")
        wait(agent, lambda d: text_of("[data-figure=tickets]")(d) == "2")
        assert text_of("[data-figure=rating]")(agent) == "3.00 (2)"
        wait(agent, lambda d: d.execute_script(CHARTS_DRAWN) == [True, True, True])
        if size == PHONE:
            fits_phone(agent)
        shoot(agent, name)

    Select(css(agent, "#report-category")).select_by_value("payment")
    click(agent, "form.filters button[type=submit]")
    wait(agent, lambda d: text_of("[data-figure=tickets]")(d) == "1")
    assert text_of("[data-figure=rating]")(agent) == "2.00 (1)"
    # Every script, style and chart library came from the helpdesk itself, none from a CDN.
    origins = agent.execute_script(
        "return performance.getEntriesByType('resource').map((e) => new URL(e.name).origin)"
    )
    assert set(origins) == {running.base_url}
