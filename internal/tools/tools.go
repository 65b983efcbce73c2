//go:build tools

// Package tools pins modules that Hermod's packages are about to use, so that
// `go mod tidy` keeps them while the code that imports them is being written.
package tools

import (
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/klauspost/compress/flate"
	_ "github.com/panjf2000/gnet/v2"
	_ "github.com/pelletier/go-toml/v2"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/puzpuzpuz/xsync/v4"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/valyala/bytebufferpool"
	_ "go.etcd.io/bbolt"
	_ "golang.org/x/net/idna"
	_ "golang.org/x/text/secure/precis"
	_ "mellium.im/xmpp"
)
