#!/usr/bin/env python3
"""tests/fault_server.py: an API server gone wrong, on 127.0.0.1, for tests/test_faults_network.sh.

    fault_server.py PORT_FILE MODE_FILE UPSTREAM_PORT LOG_FILE

Listens on a free port (written to PORT_FILE) and answers each connection as MODE_FILE says
when the connection arrives (one word; read again for every connection, so a test switches
modes by rewriting the file):

  relay    a plain TCP relay to `k8s-events simulate` on UPSTREAM_PORT: the real thing
  silent   reads the request and never answers, until the client hangs up
  trickle  the upstream's answer, its headers at once and then its body one byte a second
  html     200 text/html: a proxy's login page, whatever was asked
  gzip     the upstream's answer with its body gzip-compressed (Content-Encoding: gzip),
           flushed after every piece the upstream sent, so a watch stays live

LOG_FILE gets one line a request: the mode, then the request line. Standard library only.
"""
import http.client
import os
import socket
import sys
import threading
import time
import zlib

port_file, mode_file, upstream_port, log_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
log_lock = threading.Lock()

LOGIN_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Sign in - Corporate Proxy</title></head>\n"
              b"<body><form method=\"post\" action=\"/login\">\n<input name=\"user\"><input name=\"password\" type=\"password\">\n"
              b"<button>Sign in</button></form></body></html>\n")


def log(mode, line):
    with log_lock, open(log_file, "a") as f:
        f.write(f"{mode} {line}\n")


def read_head(conn):
    """The request's head (request line and headers), or None when the client hung up."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def relay(conn):
    up = socket.create_connection(("127.0.0.1", upstream_port))
    t = threading.Thread(target=pipe, args=(up, conn), daemon=True)
    t.start()
    pipe(conn, up)
    t.join()
    up.close()


def upstream(request_line, headers):
    """Ask the simulator the same question; its answer, body unread."""
    method, path, _ = request_line.split(" ", 2)
    up = http.client.HTTPConnection("127.0.0.1", upstream_port)
    keep = {k: v for k, v in headers.items() if k in ("authorization", "accept")}
    up.request(method, path, headers=keep)
    return up.getresponse()


def chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)


def transformed(conn, request_line, headers, mode):
    resp = upstream(request_line, headers)
    head = [f"HTTP/1.1 {resp.status} {resp.reason}",
            f"Content-Type: {resp.getheader('Content-Type', 'application/json')}",
            "Transfer-Encoding: chunked", "Connection: close"]
    if mode == "gzip":
        head.append("Content-Encoding: gzip")
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    z = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: the gzip format
    try:
        while True:
            data = resp.read1(65536)
            if not data:
                break
            if mode == "gzip":
                conn.sendall(chunk(z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)))
            else:
                for i in range(len(data)):
                    conn.sendall(chunk(data[i:i + 1]))
                    time.sleep(1)
        if mode == "gzip":
            conn.sendall(chunk(z.flush()))
        conn.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the client hung up
    resp.close()


def serve(conn):
    try:
        mode = open(mode_file).read().strip()
        if mode == "relay":
            log(mode, "(a TCP relay)")
            relay(conn)
            return
        got = read_head(conn)
        if got is None:
            return
        request_line, headers = got
        log(mode, request_line)
        if mode == "silent":
            while conn.recv(65536):
                pass
        elif mode == "html":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(LOGIN_PAGE), LOGIN_PAGE))
        elif mode in ("trickle", "gzip"):
            transformed(conn, request_line, headers, mode)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(listener.getsockname()[1]))
    os.rename(tmp, port_file)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
