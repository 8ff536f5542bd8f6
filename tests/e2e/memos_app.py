"""The tutorial's memo app, built offline: busybox httpd serving a page, writing one line per
start into /var/opt/memos (its data directory). Used by the network e2e suites and the demo."""

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
