"""The sandbox carrier mailbox: a real IMAP server on loopback (pymap) and the World's mail.

    with start_mail_server(MailServerOptions(password=...)) as server:   # port 0: a free port
        MailboxSeeder(server, MailGenerator(world), clock).catch_up()

`python -m sandbox.mail --port 8143 --secrets-file var/secrets.yaml` runs both. `malformed.MALFORMED`
is the corpus of broken and unsafe mail with the outcome each must get.
"""
