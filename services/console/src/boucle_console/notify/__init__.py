"""E-mail notifications: reminders before a case misses its deadline, plans waiting for
validation; sent over SMTP, each once per item and deadline, with an unsubscribe link."""
