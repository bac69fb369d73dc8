# https_server.py NAME: an HTTPS server on a free loopback port with NAME.crt/NAME.key, answering
# 200 "ok"; writes its port to NAME.port.
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1] + ".crt", sys.argv[1] + ".key")
s.socket = ctx.wrap_socket(s.socket, server_side=True)
open(sys.argv[1] + ".port", "w").write(str(s.server_port))
s.serve_forever()
