"""Reporter benchmark: the full dossier de preuves of a large network, from the read model."""
