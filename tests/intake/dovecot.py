"""A real IMAP server for the tests: Debian's dovecot, run in the foreground with its own
configuration, users and mail in a temporary folder, listening on a free loopback port
without TLS (nothing leaves the machine). Skipped where dovecot is not installed; CI
installs it (.ci/run)."""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
first_valid_gid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int
    user: str
    password: str

    def url(self, folder: str = "INBOX") -> str:
        return f"imap://{self.user}:{self.password}@{self.host}:{self.port}/{folder}"


def is_installed() -> bool:
    return Path(DOVECOT).exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_dovecot(root: Path) -> Iterator[ImapServer]:
    for folder in ("run", "state", "mail", "home"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    uid, gid = os.getuid(), os.getgid()
    server = ImapServer("127.0.0.1", _free_port(), "refunds", "mailbox-secret")
    (root / "users").write_text(f"{server.user}:{{PLAIN}}{server.password}\n")
    config = root / "dovecot.conf"
    user, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
    if uid == 0:
        # As root (CI, containers), dovecot's login processes must run as its own
        # unprivileged users, created by the Debian package; they must reach the sockets.
        internal_user, internal_group, login_user = "dovecot", "dovecot", "dovenull"
        # Mail is never kept as root either: the mailbox belongs to dovecot's user.
        uid, gid = pwd.getpwnam("dovecot").pw_uid, grp.getgrnam("dovecot").gr_gid
        for folder in ("mail", "home"):
            os.chown(root / folder, uid, gid)
        for folder in (root, *root.parents):
            if folder == Path("/"):
                break
            folder.chmod(folder.stat().st_mode | 0o055)
    else:
        internal_user, internal_group, login_user = user, group, user
    config.write_text(CONFIG.format(root=root, port=server.port, uid=uid, gid=gid,
                                    internal_user=internal_user,
                                    internal_group=internal_group, login_user=login_user))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(server, process, root)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_for(server: ImapServer, process: subprocess.Popen[bytes], root: Path) -> None:
    for _ in range(100):
        if process.poll() is not None:
            log = root / "dovecot.log"
            raise RuntimeError("dovecot exited: "
                               + (log.read_text() if log.exists() else "no log"))
        try:
            # Ready when a login works: the port opens before the authentication process
            # is, and a login in between is refused as a temporary failure.
            client = imaplib.IMAP4(server.host, server.port, timeout=5)
            try:
                client.login(server.user, server.password)
            finally:
                client.shutdown()
            return
        except (OSError, imaplib.IMAP4.error):
            time.sleep(0.1)
    raise RuntimeError("dovecot did not start answering logins")
