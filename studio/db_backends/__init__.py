"""Database backends: Django's own, with a gate that bounds the connections a worker's job
threads hold at once (see ``gate``)."""
