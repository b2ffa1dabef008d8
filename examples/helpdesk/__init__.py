"""A marketplace helpdesk: realtime chat and support tickets published through pusherd."""
