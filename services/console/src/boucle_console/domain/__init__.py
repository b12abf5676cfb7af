"""What the pages show, computed without any I/O: view models, deadlines, allowed steps."""
