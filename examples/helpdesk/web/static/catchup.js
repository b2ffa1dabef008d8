/*
 * Delivers one channel's helpdesk events exactly once and in order.
 *
 * Every event carries its channel's sequence number `seq`. A live event that is the next one
 * is applied at once; an older one (a resend) is dropped; a later one reveals a gap, which is
 * filled from the API's "events since N" before going on. Call catchUp() on every
 * (re)subscription, since events published while disconnected never arrive live.
 * Works in browsers (window.HelpdeskCatchUp) and in Node (require).
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.HelpdeskCatchUp = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  class ChannelStream {
    /**
     * @param {object} options
     * @param {(since: number) => Promise<Array<{event: string, seq: number, data: object}>>} options.fetchSince
     * @param {(name: string, data: object) => void} options.onEvent
     * @param {number} [options.lastSeq] the last sequence number already applied
     */
    constructor({ fetchSince, onEvent, lastSeq = 0 }) {
      this.fetchSince = fetchSince;
      this.onEvent = onEvent;
      this.lastSeq = lastSeq;
      this.fetching = null;
      this.again = false;
    }

    /** Take a live event; `data.seq` decides whether it is applied, dropped or fetched. */
    receive(name, data) {
      if (!data || typeof data.seq !== "number" || data.seq <= this.lastSeq) return;
      if (data.seq === this.lastSeq + 1) {
        this.apply(name, data);
      } else {
        this.catchUp();
      }
    }

    apply(name, data) {
      this.lastSeq = data.seq;
      this.onEvent(name, data);
    }

    /** Fetch and apply everything after lastSeq; concurrent calls coalesce into one more round. */
    catchUp() {
      if (this.fetching) {
        this.again = true;
        return this.fetching;
      }
      this.fetching = (async () => {
        try {
          do {
            this.again = false;
            let batch;
            do {
              batch = await this.fetchSince(this.lastSeq);
              for (const event of batch) {
                if (event.seq === this.lastSeq + 1) this.apply(event.event, event.data);
              }
            } while (batch.length >= 500);
          } while (this.again);
        } finally {
          this.fetching = null;
        }
      })();
      return this.fetching;
    }
  }

  /** The API fetcher for one channel, given the helpdesk's base URL and a sign-in token. */
  function apiFetcher(baseUrl, channel, token) {
    return async (since) => {
      const response = await fetch(
        `${baseUrl}/api/channels/${encodeURIComponent(channel)}/events?since=${since}`,
        { headers: { Authorization: `Bearer ${token}` } },
      );
      if (!response.ok) throw new Error(`catch-up failed: ${response.status}`);
      return (await response.json()).events;
    };
  }

  return { ChannelStream, apiFetcher };
});
