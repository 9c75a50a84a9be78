package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"
)

// upstreamBody is what the one upstream answers every participant: a page of payments.
const upstreamBody = `{"payments":[{"id":"pay_7f3a9c","amount":2500,"currency":"EUR","status":"settled","description":"Order 1042","created_at":"2026-11-27T09:30:00Z"}]}`

// nginxBase is what both nginx instances share: running in the foreground as this user, every
// path under its own directory, keep-alive connections reused for as long as the run lasts.
const nginxBase = `daemon off;
master_process on;
worker_processes auto;
user root;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path {{.Dir}}/tmp/body;
  proxy_temp_path {{.Dir}}/tmp/proxy;
  fastcgi_temp_path {{.Dir}}/tmp/fastcgi;
  uwsgi_temp_path {{.Dir}}/tmp/uwsgi;
  scgi_temp_path {{.Dir}}/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
`

// upstreamConf answers fixed JSON.
var upstreamConf = template.Must(template.New("upstream").Parse(nginxBase + `
  server {
    listen 127.0.0.1:{{.Port}};
    location / {
      default_type application/json;
      return 200 '{{.Body}}';
    }
  }
}
`))

// gatewayConf is nginx as an API-key gateway: the key header mapped to its client (unknown: 401),
// a request limit per key, a JSON access log written in buffers, and the same path rewrite as
// Onramp's (/payments/v2/payments → the upstream's /payments).
var gatewayConf = template.Must(template.New("gateway").Parse(nginxBase + `
  map_hash_bucket_size 128;
  map $http_x_api_key $api_client {
    default "";
    "{{.Key}}" "org_bench";
  }
  limit_req_zone $api_client zone=perkey:10m rate=1000000r/s;
  log_format gatewayjson escape=json '{"time":"$time_iso8601","client":"$api_client","method":"$request_method","uri":"$uri","status":$status,"request_time":$request_time,"upstream_time":"$upstream_response_time"}';
  upstream backend {
    server 127.0.0.1:{{.Upstream}};
    keepalive 256;
  }
  server {
    listen 127.0.0.1:{{.Port}};
    access_log {{.Dir}}/access.json gatewayjson buffer=256k flush=1s;
    location /payments/v2/ {
      if ($api_client = "") {
        return 401 '{"type":"https://onramp.dev/problems/invalid-credential","title":"Invalid credential","status":401}';
      }
      limit_req zone=perkey burst=100000 nodelay;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-API-Key "";
      proxy_set_header X-Onramp-Org $api_client;
      proxy_pass http://backend/;
    }
  }
}
`))

type nginxSettings struct {
	Dir, Key, Body string
	Port, Upstream int
}

// startNginx runs nginx with a configuration from tmpl in dir and returns its base URL.
func startNginx(ctx context.Context, name, dir string, tmpl *template.Template, s nginxSettings) (*proc, string, error) {
	for _, sub := range []string{"body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.MkdirAll(filepath.Join(dir, "tmp", sub), 0o755); err != nil {
			return nil, "", err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	s.Dir, s.Port = dir, port
	var conf strings.Builder
	if err := tmpl.Execute(&conf, s); err != nil {
		return nil, "", err
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
		return nil, "", err
	}
	p, out, err := spawn(name, filepath.Join(dir, "stderr.log"), "nginx", "-p", dir, "-c", path)
	if err != nil {
		return nil, "", err
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitListening(ctx, url, 10*time.Second); err != nil {
		p.stop(5 * time.Second)
		return nil, "", fmt.Errorf("%s: %w (see %s)", name, err, filepath.Join(dir, "error.log"))
	}
	return p, url, nil
}
