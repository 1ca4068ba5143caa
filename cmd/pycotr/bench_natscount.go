package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// natsCounter is a raw NATS client (the text protocol over TCP, no
// nats.go: this command does not import it) subscribed to '<prefix>.>'
// and '_INBOX.>'. It receives one copy of every message the nodes publish
// and every reply to their requests, and counts their bytes by kind.
type natsCounter struct {
	conn   net.Conn
	prefix string
	mu     sync.Mutex
	bytes  map[string]int64 // headers + payload, by kind
	msgs   map[string]int64
	pong   chan struct{}
	done   chan struct{}
	err    error
}

func dialCounter(clientURL, prefix string) (*natsCounter, error) {
	u, err := url.Parse(clientURL)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := &natsCounter{conn: conn, prefix: prefix, pong: make(chan struct{}, 1), done: make(chan struct{})}
	c.reset()
	r := bufio.NewReaderSize(conn, 1<<16)
	info, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(info, "INFO ") {
		conn.Close()
		return nil, fmt.Errorf("nats counter: no INFO from %s: %v", u.Host, err)
	}
	hello := `CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1,"name":"pycotr-bench-counter"}` + "\r\n" +
		"SUB " + prefix + ".> 1\r\nSUB _INBOX.> 2\r\nPING\r\n"
	if _, err := io.WriteString(conn, hello); err != nil {
		conn.Close()
		return nil, err
	}
	go c.read(r)
	select {
	case <-c.pong: // the subscriptions are registered
	case <-c.done:
		return nil, fmt.Errorf("nats counter: %v", c.err)
	case <-time.After(5 * time.Second):
		conn.Close()
		return nil, fmt.Errorf("nats counter: no PONG")
	}
	return c, nil
}

func (c *natsCounter) read(r *bufio.Reader) {
	defer close(c.done)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			c.err = err
			return
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "PING":
			_, _ = io.WriteString(c.conn, "PONG\r\n")
		case "PONG":
			select {
			case c.pong <- struct{}{}:
			default:
			}
		case "-ERR":
			c.err = fmt.Errorf("server: %s", strings.TrimSpace(line))
			return
		case "MSG", "HMSG":
			// MSG subject sid [reply] size; HMSG subject sid [reply] hdrsize total
			n, err := strconv.Atoi(f[len(f)-1])
			if err != nil || len(f) < 4 {
				c.err = fmt.Errorf("bad line %q", line)
				return
			}
			if _, err := r.Discard(n + 2); err != nil {
				c.err = err
				return
			}
			kind := c.kind(f[1])
			c.mu.Lock()
			c.bytes[kind] += int64(n)
			c.msgs[kind]++
			c.mu.Unlock()
		}
	}
}

// kind names a subject: block, tx, presence, consensus, sync-request,
// info-request, reply.
func (c *natsCounter) kind(subject string) string {
	if strings.HasPrefix(subject, "_INBOX.") {
		return "reply"
	}
	s := strings.TrimPrefix(subject, c.prefix+".")
	switch {
	case strings.HasPrefix(s, "node.") && strings.HasSuffix(s, ".blocks"):
		return "sync-request"
	case strings.HasPrefix(s, "node."):
		return "info-request"
	}
	return s
}

func (c *natsCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bytes = map[string]int64{}
	c.msgs = map[string]int64{}
}

// snapshot returns the bytes and message counts by kind since reset.
func (c *natsCounter) snapshot() (bytes, msgs map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	bytes, msgs = map[string]int64{}, map[string]int64{}
	for k, v := range c.bytes {
		bytes[k] = v
	}
	for k, v := range c.msgs {
		msgs[k] = v
	}
	return bytes, msgs
}

func (c *natsCounter) Close() error {
	err := c.conn.Close()
	<-c.done
	return err
}
