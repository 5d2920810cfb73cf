"""The web page of `smartserver serve`: the fleet table live (server-sent events), a device page
with its recent logs and config, push and restart buttons.

Listens on 127.0.0.1 unless told otherwise; anywhere else it needs a password (HTTP basic auth;
put TLS in front of it, e.g. a reverse proxy). Everything a node sent is shown with textContent,
never as HTML. A POST needs the header X-SmartServer (a cross-site form cannot send it) and a
loopback listener only answers Host names of the loopback (against DNS rebinding).
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import queue
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger("smartserver.web")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_KEEPALIVE = 15.0  # s between comments on an idle event stream (proxies close silent ones)


class WebError(Exception):
    pass


class Web:
    def __init__(self, server, host: str, port: int, password: str | None) -> None:
        if host not in LOOPBACK and not password:
            raise WebError(
                f"the web page on {host} needs a password (--http-password or"
                " SMARTSERVER_HTTP_PASSWORD); without one it only listens on 127.0.0.1"
            )
        self.server = server
        self.password = password
        self.loopback = host in LOOPBACK
        handler = type("Handler", (_Handler,), {"web": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.closing = threading.Event()

    def start(self) -> None:
        self._thread.start()
        log.info("web page on http://%s:%d/", self.host, self.port)

    def stop(self) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    web: Web
    server_version = "smartserver"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # -- guards --------------------------------------------------------------------------

    def _allowed(self) -> bool:
        web = self.web
        if web.loopback:
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
            if host not in LOOPBACK:
                self._send(421, "text/plain", b"wrong Host for a loopback server\n")
                return False
        if web.password:
            given = self.headers.get("Authorization", "")
            ok = False
            if given.startswith("Basic "):
                try:
                    _, _, pw = base64.b64decode(given[6:]).decode().partition(":")
                    ok = hmac.compare_digest(pw.encode(), web.password.encode())
                except (ValueError, UnicodeDecodeError):
                    ok = False
            if not ok:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="smartserver"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return False
        return True

    def _send(self, code: int, ctype: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'",
        )
        self.end_headers()
        self.wfile.write(body)

    def _json(self, data: Any, code: int = 200) -> None:
        self._send(code, "application/json", json.dumps(data).encode())

    # -- routes --------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802
        if not self._allowed():
            return
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.split("/") if p]
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        srv = self.web.server
        try:
            if not parts:
                self._send(200, "text/html; charset=utf-8", FLEET_PAGE.encode())
            elif parts == ["events"]:
                self._events(query.get("logs"))
            elif len(parts) == 2 and parts[0] == "device":
                self._send(200, "text/html; charset=utf-8", DEVICE_PAGE.encode())
            elif parts == ["api", "devices"]:
                self._json(srv.fleet())
            elif len(parts) == 3 and parts[:2] == ["api", "devices"]:
                self._json(self._device(parts[2]))
            elif len(parts) == 4 and parts[:2] == ["api", "devices"] and parts[3] == "logs":
                limit = min(int(query.get("limit", "200")), 2000)
                self._json(
                    srv.store.logs(parts[2], query.get("level") or None, query.get("q"), limit)
                )
            else:
                self._json({"error": "not found"}, 404)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except ValueError as e:
            self._json({"error": str(e)}, 400)

    def do_POST(self) -> None:  # noqa: N802
        if not self._allowed():
            return
        if self.headers.get("X-SmartServer") != "1":
            self._json({"error": "missing X-SmartServer header"}, 403)
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 4096))
        parts = [unquote(p) for p in urlsplit(self.path).path.split("/") if p]
        srv = self.web.server
        if len(parts) == 4 and parts[:2] == ["api", "devices"] and parts[3] in ("push", "restart"):
            device = parts[2]
            state = (srv.store.device(device) or {}).get("availability")
            if state != "online":
                why = f"{device} is {state or 'unknown'}: it gets its config at its next login"
                self._json({"ok": False, "message": why}, 409)
                return
            with srv._lock:
                if parts[3] == "push":
                    ok, why = srv.send_config(device, "web")
                else:
                    ok, why = srv.send_command(device, "restart")
            log.info("web: %s %s: %s", parts[3], device, why)
            self._json({"ok": ok, "message": why}, 200 if ok else 409)
        else:
            self._json({"error": "not found"}, 404)

    def _device(self, device: str) -> dict[str, Any]:
        srv = self.web.server
        out = srv.device_view(device)
        dev = srv.folder.devices.get(device)
        out["config_path"] = str(dev.path) if dev else None
        try:
            out["config_text"] = dev.path.read_text(encoding="utf-8")[:100000] if dev else None
        except OSError:
            out["config_text"] = None
        out["problems"] = [str(p) for p in dev.problems] if dev else []
        out["pushes"] = srv.store.pushes(device)
        row = srv.store.device(device) or {}
        out["status_json"] = row.get("status_json")
        return out

    def _events(self, logs_of: str | None) -> None:
        srv = self.web.server
        q = srv.hub.subscribe(logs_of)
        try:
            # small events one after another: without this Nagle holds each for a delayed ACK
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self._event("fleet", srv.fleet())
            while not self.web.closing.is_set():
                try:
                    event, data = q.get(timeout=_KEEPALIVE)
                except queue.Empty:
                    self.wfile.write(b": keepalive\n\n")
                    self.wfile.flush()
                    continue
                self._event(event, data)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        finally:
            srv.hub.unsubscribe(q)

    def _event(self, event: str, data: Any) -> None:
        self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;width:100%}th,td{padding:.3em .6em;border-bottom:1px solid #ddd;
text-align:left;font-size:.92em}th{background:#f4f4f4}
.online{color:#17803d;font-weight:600}.offline{color:#777}.lost{color:#c0262d;font-weight:700}
.unknown{color:#999}.drift{color:#b45309;font-weight:600}.invalid{color:#c0262d}
pre{background:#f6f6f6;padding:.8em;overflow:auto;max-height:30em}
button{margin-right:.5em;padding:.3em .9em}#msg{margin:.6em 0;font-weight:600}
input{padding:.25em}
"""

_COMMON_JS = """
function fmtUptime(s){if(s==null)return '';const d=Math.floor(s/86400),h=Math.floor(s%86400/3600),
m=Math.floor(s%3600/60);return (d?d+'d ':'')+h+'h '+m+'m';}
function cell(tr,text,cls){const td=document.createElement('td');td.textContent=text==null?'':text;
if(cls)td.className=cls;tr.appendChild(td);return td;}
"""

FLEET_PAGE = (
    """<!doctype html><html><head><meta charset="utf-8"><title>SmartServer fleet</title>
<style>"""
    + _STYLE
    + """</style></head><body>
<h1>Fleet</h1>
<p>Filter: <input id="filter" placeholder="id, state, version, drift ..."> <span id="live">connecting</span></p>
<table><thead><tr><th>device</th><th>name</th><th>state</th><th>version</th><th>platform</th>
<th>uptime</th><th>RAM free</th><th>IP</th><th>reset reason</th><th>last error</th><th>config</th>
<th>last push</th></tr></thead><tbody id="fleet"></tbody></table>
<script>"""
    + _COMMON_JS
    + """
const rows = {};
function render(d){
  let tr = rows[d.id];
  if(!tr){tr=document.createElement('tr');rows[d.id]=tr;tr.id='dev-'+d.id;
    const body=document.getElementById('fleet');
    const after=[...body.children].find(r=>r.id>tr.id);body.insertBefore(tr,after||null);}
  tr.replaceChildren();
  const a=document.createElement('a');a.href='/device/'+encodeURIComponent(d.id);a.textContent=d.id;
  cell(tr,'').appendChild(a);
  cell(tr,d.name);
  cell(tr,d.availability,d.availability).dataset.field='availability';
  cell(tr,d.version);cell(tr,d.platform);cell(tr,fmtUptime(d.uptime));
  cell(tr,d.ram_free==null?'':d.ram_free);cell(tr,d.ip);cell(tr,d.reset_reason);
  cell(tr,d.last_error);cell(tr,d.drift,d.drift==='in sync'?'':d.drift.replace(' ','-'));
  cell(tr,d.last_push).dataset.field='last_push';
  tr.dataset.search=[d.id,d.name,d.availability,d.version,d.platform,d.drift,d.ip].join(' ').toLowerCase();
  applyFilter(tr);
}
function applyFilter(tr){const f=document.getElementById('filter').value.toLowerCase();
  tr.hidden=!!f && !tr.dataset.search.includes(f);}
document.getElementById('filter').addEventListener('input',()=>Object.values(rows).forEach(applyFilter));
const es=new EventSource('/events');
es.addEventListener('fleet',e=>{JSON.parse(e.data).forEach(render);
  document.getElementById('live').textContent='live';});
es.addEventListener('device',e=>render(JSON.parse(e.data)));
es.onerror=()=>{document.getElementById('live').textContent='reconnecting';};
</script></body></html>"""
)

DEVICE_PAGE = (
    """<!doctype html><html><head><meta charset="utf-8"><title>SmartServer device</title>
<style>"""
    + _STYLE
    + """</style></head><body>
<p><a href="/">fleet</a></p><h1 id="title">device</h1>
<p>state: <span id="availability"></span> · version <span id="version"></span> ·
uptime <span id="uptime"></span> · config: <span id="drift"></span></p>
<p><button id="push">push config</button><button id="restart">restart</button></p>
<div id="msg"></div>
<h2>Recent logs</h2><p><input id="q" placeholder="search logs"></p>
<table><thead><tr><th>time</th><th>level</th><th>logger</th><th>message</th></tr></thead>
<tbody id="logs"></tbody></table>
<h2>Config <span id="path"></span></h2><ul id="problems"></ul><pre id="config"></pre>
<h2>Pushes</h2><table><thead><tr><th>time</th><th>trigger</th><th>counter</th><th>outcome</th>
<th>detail</th></tr></thead><tbody id="pushes"></tbody></table>
<script>"""
    + _COMMON_JS
    + """
const id=decodeURIComponent(location.pathname.split('/')[2]);
const api='/api/devices/'+encodeURIComponent(id);
function t(ts){return ts?new Date(ts*1000).toLocaleString():'';}
function show(d){
  document.getElementById('title').textContent=id+(d.name&&d.name!==id?' ('+d.name+')':'');
  const a=document.getElementById('availability');a.textContent=d.availability;a.className=d.availability;
  document.getElementById('version').textContent=d.version||'?';
  document.getElementById('uptime').textContent=fmtUptime(d.uptime);
  document.getElementById('drift').textContent=d.drift;
}
async function load(){
  const d=await (await fetch(api)).json();show(d);
  document.getElementById('config').textContent=d.config_text||'(no file in the config folder)';
  document.getElementById('path').textContent=d.config_path?'('+d.config_path+')':'';
  const pr=document.getElementById('problems');pr.replaceChildren();
  d.problems.forEach(p=>{const li=document.createElement('li');li.textContent=p;pr.appendChild(li);});
  const pb=document.getElementById('pushes');pb.replaceChildren();
  d.pushes.forEach(p=>{const tr=document.createElement('tr');cell(tr,t(p.ts));cell(tr,p.trigger);
    cell(tr,p.counter);cell(tr,p.outcome);cell(tr,p.detail);pb.appendChild(tr);});
  loadLogs();
}
async function loadLogs(){
  const q=document.getElementById('q').value;
  const logs=await (await fetch(api+'/logs?limit=200&q='+encodeURIComponent(q))).json();
  const lb=document.getElementById('logs');lb.replaceChildren();
  logs.forEach(l=>{const tr=document.createElement('tr');cell(tr,t(l.ts));cell(tr,l.level,l.level);
    cell(tr,l.logger);cell(tr,l.message);lb.appendChild(tr);});
}
async function post(what){
  const r=await fetch(api+'/'+what,{method:'POST',headers:{'X-SmartServer':'1'}});
  const j=await r.json();document.getElementById('msg').textContent=j.message||j.error;load();
}
document.getElementById('push').onclick=()=>post('push');
document.getElementById('restart').onclick=()=>post('restart');
document.getElementById('q').addEventListener('input',loadLogs);
const es=new EventSource('/events?logs='+encodeURIComponent(id));
es.addEventListener('device',e=>{const d=JSON.parse(e.data);if(d.id===id)show(d);});
let pending=false;  // at most one reload of the logs a second, however many arrive
es.addEventListener('log',e=>{const l=JSON.parse(e.data);if(l.device!==id||pending)return;
  pending=true;setTimeout(()=>{pending=false;loadLogs();},1000);});
load();
</script></body></html>"""
)
