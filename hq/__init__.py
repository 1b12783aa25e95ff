"""Head office's collector: pulls every branch box's records and recordings into one store."""
