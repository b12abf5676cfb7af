"""The console's pages: server-rendered HTML, forms posted back with a CSRF token."""
