"""Privacy family: a data subject's erasure, requested once and carried out by every service."""
