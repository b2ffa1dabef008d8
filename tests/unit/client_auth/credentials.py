"""The credentials of the worked examples (AUTH.md §5, HTTP_API.md §2.5), from Pusher's docs."""

KEY = "278d425bdf160c739803"
SECRET = "7ad3773142a6692b25b8"
SOCKET_ID = "1234.1234"
APP_ID = "3"
TIMESTAMP = 1353088179
MASTER_KEY = bytes(range(32))
MASTER_KEY_BASE64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
