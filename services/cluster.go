package services

import (
	"context"
	"errors"
	"fmt"

	"github.com/pycotr/pycotr/events"
)

// ClusterConfig configures a Cluster: one embedded NATS server and a node
// per entry of Nodes.
type ClusterConfig struct {
	NATS  events.ServerConfig
	Nodes []Config // Embedded is set by the cluster
}

// Cluster runs several nodes on one embedded NATS server in one process:
// `pycotr up`, and the tests.
type Cluster struct {
	Server *events.Server
	Nodes  []*Node
}

// StartCluster starts the server, then each node.
func StartCluster(ctx context.Context, cfg ClusterConfig) (*Cluster, error) {
	srv, err := events.StartServer(cfg.NATS)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Server: srv}
	for i, nc := range cfg.Nodes {
		nc.Embedded = srv
		n, err := New(nc)
		if err == nil {
			err = n.Start(ctx)
		}
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("cluster node %d: %w", i+1, err)
		}
		c.Nodes = append(c.Nodes, n)
	}
	return c, nil
}

// Close stops every node, then the server.
func (c *Cluster) Close() error {
	var errs []error
	for _, n := range c.Nodes {
		errs = append(errs, n.Close())
	}
	if c.Server != nil {
		c.Server.Shutdown()
	}
	return errors.Join(errs...)
}
