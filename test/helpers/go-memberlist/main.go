// A real Go memberlist node (Debian's golang-github-hashicorp-memberlist-dev,
// memberlist 0.2.2) for the interop tests: it joins the seeds, prints every
// membership event on stdout, and with -state-bytes answers every push/pull
// with a user state of that many bytes. Built by test/helpers/go-memberlist.ts.
//
//	go-memberlist -name N -bind IP:PORT [-join IP:PORT,...] [-key BASE64] [-state-bytes N] [-compress=false]
//
// Prints "ready" once listening; "join NAME", "leave NAME" and "update NAME"
// per event; leaves gracefully on SIGTERM, then prints "left".
package main

import (
	"encoding/base64"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/memberlist"
)

type events struct{}

func (events) NotifyJoin(n *memberlist.Node)   { fmt.Printf("join %s\n", n.Name) }
func (events) NotifyLeave(n *memberlist.Node)  { fmt.Printf("leave %s\n", n.Name) }
func (events) NotifyUpdate(n *memberlist.Node) { fmt.Printf("update %s\n", n.Name) }

// delegate sends a user state of a fixed size in every push/pull.
type delegate struct{ state []byte }

func (d delegate) NodeMeta(limit int) []byte                  { return nil }
func (d delegate) NotifyMsg([]byte)                           {}
func (d delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d delegate) LocalState(join bool) []byte                { return d.state }
func (d delegate) MergeRemoteState(buf []byte, join bool)     {}

func main() {
	name := flag.String("name", "", "node name")
	bind := flag.String("bind", "127.0.0.1:7946", "bind address IP:PORT")
	join := flag.String("join", "", "seeds IP:PORT, comma-separated")
	key := flag.String("key", "", "AES key, base64")
	stateBytes := flag.Int("state-bytes", 0, "size of the user state sent in every push/pull")
	compress := flag.Bool("compress", true, "LZW-compress what it sends (memberlist's EnableCompression)")
	flag.Parse()

	host, portText, err := net.SplitHostPort(*bind)
	if err != nil {
		log.Fatalf("bad -bind: %v", err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		log.Fatalf("bad -bind port: %v", err)
	}
	c := memberlist.DefaultLocalConfig()
	c.Name = *name
	c.BindAddr = host
	c.BindPort = port
	c.AdvertiseAddr = host
	c.AdvertisePort = port
	c.ProbeInterval = 200 * time.Millisecond
	c.ProbeTimeout = 100 * time.Millisecond
	c.GossipInterval = 50 * time.Millisecond
	c.SuspicionMult = 3
	// the LAN value: a push/pull of many MB takes more than the local profile's 1 s
	c.TCPTimeout = 10 * time.Second
	c.EnableCompression = *compress
	// serf's delegate protocol range (2-5, speaking 4): push/pull checks every member's against every other's
	c.DelegateProtocolMin = 2
	c.DelegateProtocolMax = 5
	c.DelegateProtocolVersion = 4
	c.Events = events{}
	c.LogOutput = os.Stderr
	if *stateBytes > 0 {
		c.Delegate = delegate{state: make([]byte, *stateBytes)}
	}
	if *key != "" {
		k, err := base64.StdEncoding.DecodeString(*key)
		if err != nil {
			log.Fatalf("bad -key: %v", err)
		}
		c.SecretKey = k
	}
	m, err := memberlist.Create(c)
	if err != nil {
		log.Fatalf("memberlist: %v", err)
	}
	fmt.Println("ready")
	if *join != "" {
		if _, err := m.Join(strings.Split(*join, ",")); err != nil {
			fmt.Printf("join-failed %v\n", err)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	if err := m.Leave(5 * time.Second); err != nil {
		fmt.Printf("leave-failed %v\n", err)
	}
	m.Shutdown()
	fmt.Println("left")
}
