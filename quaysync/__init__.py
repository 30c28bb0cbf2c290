"""quaysync's shared kernel: the unified model, the error taxonomy, configuration and logging.

Every room (bots/, mailbox/, parsers/, sync/, store/, api/, worker/) speaks these types;
this package imports none of the rooms.
"""
