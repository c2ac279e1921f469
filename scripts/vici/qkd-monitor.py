#!/usr/bin/env python3
# Copyright (C) 2026 The strongswan-qkd authors
#
# This program is free software; you can redistribute it and/or modify it
# under the terms of the GNU General Public License as published by the
# Free Software Foundation; either version 2 of the License, or (at your
# option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
"""Watch the qkd plugin of a charon through its control socket.

An example of scripting the plugin with strongSwan's own Python vici
package (src/libcharon/plugins/vici/python in strongSwan's source, or
"pip install vici"); see docs/vici.md for the commands and events.

    qkd-monitor.py --list                 links, pools, KMEs and DOH peers
    qkd-monitor.py --watch [EVENT ...]    events, one line each, until killed
    qkd-monitor.py --watch --until pool-refilled --timeout 60

Lines are "<name> <link> key=value ...", flushed at once, so another program
can follow them through a pipe or a file.
"""

import argparse
import os
import socket
import sys
import time

try:
    import vici
except ImportError:
    sys.exit("strongSwan's Python vici package is missing: pip install vici, "
             "or PYTHONPATH=<strongSwan source>/src/libcharon/plugins/vici/"
             "python")

EVENTS = ["key-bound", "pool-low", "pool-dry", "pool-refilled",
          "kme-error", "kme-recovered", "doh-peer-up", "doh-peer-down",
          "doh-peer-reset", "ikeless-sa-installed", "ikeless-sa-rekeyed",
          "ikeless-sa-removed"]

# in the piddir of charon: Debian's, or the one testing/setup builds
DEFAULT_SOCKETS = ["/run/charon.qkd.vici",
                   "/opt/strongswan-qkd/run/charon.qkd.vici"]


def text(value):
    """A vici value as text (lists joined with commas)"""
    if isinstance(value, list):
        return ",".join(text(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def line(name, link, values):
    """One output line"""
    pairs = " ".join("{}={}".format(k, text(v)) for k, v in values.items()
                     if not isinstance(v, dict))
    print("{} {} {}".format(name, link, pairs).rstrip(), flush=True)


def connect(paths):
    """A session on the first control socket of paths that answers"""
    error = None
    for path in paths:
        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.connect(path)
            return vici.Session(sock)
        except OSError as e:
            sock.close()
            error = "connecting to {} failed: {}".format(path, e.strerror)
    sys.exit(error)


def list_all(session):
    """Print links, pools, KMEs and DOH peers"""
    for command, event, name in [("list-links", "list-link", "link"),
                                 ("list-pools", "list-pool", "pool"),
                                 ("list-kmes", "list-kme", "kme"),
                                 ("list-doh", "list-doh-peer", "doh")]:
        for item in session.streamed_request(command, event):
            for link, values in item.items():
                line(name, text(link), values)


def watch(session, events, until, timeout):
    """Print events until one named until arrives or timeout seconds pass;
    returns whether until arrived (True if there is none)"""
    deadline = time.monotonic() + timeout if timeout else None
    ready = False
    for name, event in session.listen(events, timeout=1.0):
        if not ready:
            # registered for every event by now
            print("watching {}".format(" ".join(events)), flush=True)
            ready = True
        if name is not None:
            name = text(name)
            values = dict(event)
            link = text(values.pop("link", b"-"))
            line(name, link, values)
            if name == until:
                return True
        if deadline and time.monotonic() > deadline:
            return until is None
    return until is None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", default=os.environ.get("QKD_VICI_SOCKET"),
                        help="path of the control socket")
    parser.add_argument("--list", action="store_true",
                        help="list links, pools, KMEs and DOH peers")
    parser.add_argument("--watch", nargs="*", metavar="EVENT",
                        help="print these events (all if none named)")
    parser.add_argument("--until", help="stop after this event")
    parser.add_argument("--timeout", type=float, default=0,
                        help="stop watching after this many seconds")
    args = parser.parse_args()

    session = connect([args.socket] if args.socket else DEFAULT_SOCKETS)
    if args.list:
        list_all(session)
    if args.watch is not None:
        events = args.watch or EVENTS
        unknown = [e for e in events if e not in EVENTS]
        if unknown:
            sys.exit("unknown events: {}".format(", ".join(unknown)))
        if not watch(session, events, args.until, args.timeout):
            sys.exit("no {} within {} s".format(args.until, args.timeout))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
