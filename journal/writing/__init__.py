"""From the bus to the store: the background writer, the disk spool that holds events
through outages, and the dead letters the store refused."""
