"""Personal data in free text: how well person names are found, and at what cost."""
