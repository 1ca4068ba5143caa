package events

import (
	"fmt"

	"github.com/nats-io/nats-server/v2/server"
)

// ClientTraffic is what a server exchanged with one client connection
// since the connection opened: Out is what it delivered to the client
// (every message of every subscription, replies included), In what the
// client published. Bytes are headers + payload, as TrafficCounter counts
// them.
type ClientTraffic struct {
	Name    string // the connection's name (a node's bus: "pycotr <node name>")
	In, Out Traffic
}

// ClientTraffic lists the server's open client connections with their
// traffic, from nats-server's connection monitor (Connz). It measures
// what each node receives (pycotr bench's scale phase); a node has no use
// for it.
func (s *Server) ClientTraffic() ([]ClientTraffic, error) {
	var out []ClientTraffic
	for {
		cz, err := s.srv.Connz(&server.ConnzOptions{Offset: len(out), Limit: 1024})
		if err != nil {
			return nil, fmt.Errorf("nats connz: %w", err)
		}
		for _, c := range cz.Conns {
			out = append(out, ClientTraffic{Name: c.Name,
				In:  Traffic{Msgs: c.InMsgs, Bytes: c.InBytes},
				Out: Traffic{Msgs: c.OutMsgs, Bytes: c.OutBytes}})
		}
		if len(cz.Conns) == 0 || len(out) >= cz.Total {
			return out, nil
		}
	}
}
