// Command etcd is the etcd server used as a test peer: the same entry point
// as upstream's etcd binary, built from the Go module proxy.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
