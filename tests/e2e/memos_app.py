"""The tutorial's memo app, built offline: busybox httpd serving a page, writing one line per
start into /var/opt/memos (its data directory). Used by the network e2e suites.
memos_demo_image() adds the real app of the demo and the dashboard test: a page (a busybox
httpd CGI script, memos/index.cgi) that lists the memos kept in /var/opt/memos/memos.txt and
saves a new one on POST."""

import os

import imagebuild as ib
from ctrutil import cbox_entries

APP_PORT = 5230
TUTORIAL_PORT = 5555
PAGE = b"<h1>memos (berth e2e)</h1>\n"
# The app: writes one line per start into its data dir, then serves /www.
APP_CMD = ["sh", "-c", "mkdir -p /var/opt/memos && echo \"start code=$CODE\" >> /var/opt/memos/memos.log"
           " && exec httpd -f -p 5230 -h /www"]

_memos_image = None


def memos_image():
    global _memos_image
    if _memos_image is None:
        base = ib.Layer.from_entries(cbox_entries(), created_by="COPY busybox-static + applets")
        E = ib.Entry
        app = ib.Layer.from_entries([E("www", "dir"), E("www/index.html", "file", data=PAGE),
                                     E("var", "dir"), E("var/opt", "dir"), E("var/opt/memos", "dir"),
                                     E("var/opt/memos/README", "file", data=b"memos data\n")],
                                    created_by="COPY www")
        _memos_image = ib.Image([base, app], cmd=APP_CMD,
                                extra_config={"config": {
                                    "Cmd": APP_CMD, "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                                    "ExposedPorts": {f"{APP_PORT}/tcp": {}},
                                    "Volumes": None, "WorkingDir": "/", "Labels": {}}})
    return _memos_image


_memos_demo_image = None
# The demo app says what it does on stdout (berth logs), the CGI on stderr per saved memo.
DEMO_CMD = ["sh", "-c", "mkdir -p /var/opt/memos && echo \"start code=$CODE\" >> /var/opt/memos/memos.log"
            " && echo \"memos: serving on :5230, data in /var/opt/memos (code=$CODE)\""
            " && exec httpd -f -p 5230 -h /www"]
DEMO_CGI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "memos", "index.cgi")


def memos_demo_image():
    global _memos_demo_image
    if _memos_demo_image is None:
        base = ib.Layer.from_entries(cbox_entries(), created_by="COPY busybox-static + applets")
        E = ib.Entry
        with open(DEMO_CGI, "rb") as f:
            cgi = f.read()
        app = ib.Layer.from_entries([E("www", "dir"), E("www/cgi-bin", "dir"),
                                     E("www/cgi-bin/index.cgi", "file", data=cgi, mode=0o755),
                                     E("var", "dir"), E("var/opt", "dir"), E("var/opt/memos", "dir")],
                                    created_by="COPY memos/index.cgi /www/cgi-bin/")
        _memos_demo_image = ib.Image([base, app], cmd=DEMO_CMD,
                                     extra_config={"config": {
                                         "Cmd": DEMO_CMD, "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                                         "ExposedPorts": {f"{APP_PORT}/tcp": {}},
                                         "Volumes": None, "WorkingDir": "/",
                                         "Labels": {"org.opencontainers.image.title": "memos-demo"}}})
    return _memos_demo_image
