#!/usr/bin/python3
"""Serves the built site on this machine only (127.0.0.1) until Ctrl-C: ./course docs.

    /usr/bin/python3 tools/site/serve.py SITE_DIR [PORT]

Takes PORT (default 8000) or, if another program has it, the next free port up to PORT + 20, and
prints the address to open. Requests are not logged (a page asks for some twenty files).
"""
import functools
import http.server
import sys


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main():
    site = sys.argv[1]
    first = int(sys.argv[2]) if len(sys.argv) > 2 else 8000
    handler = functools.partial(QuietHandler, directory=site)
    for port in range(first, first + 21):
        try:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
            break
        except OSError:
            continue
    else:
        print(f"serve: error: ports {first}-{first + 20} are all in use", file=sys.stderr)
        sys.exit(2)
    print(f"The course's site: http://127.0.0.1:{port}/   (served from {site}; Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print()


if __name__ == "__main__":
    main()
