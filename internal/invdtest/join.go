package invdtest

import (
	"fmt"
	"path/filepath"
	"strings"
)

// StartJoiner starts a new node (the next node id) with join = true and the
// cluster's first nodes as its peers: it bootstraps no shard group and
// waits to be added (invctl cluster add-node, client.AddNode). It returns
// the node's index; its addresses are in Clients and Rafts. Its port opens
// at once (a joining node does not wait for leaders).
func (c *Cluster) StartJoiner() (int, error) {
	c.mu.Lock()
	i := len(c.opts)
	o := Options{Bin: c.bin, Data: filepath.Join(c.dir, fmt.Sprintf("node-%d", i+1)), Shards: c.shards,
		Addr: FreeAddr(), HTTP: FreeAddr()}
	raft := FreeAddr()
	o.Config = fmt.Sprintf("%s\nnode_id = %d\nraft_bind = %s\npeers = %s\npickup_secret = %s\njoin = true\n",
		c.shared, i+1, raft, strings.Join(c.peers, ","), clusterSecret)
	c.opts = append(c.opts, o)
	c.procs = append(c.procs, nil)
	c.Clients = append(c.Clients, o.Addr)
	c.Rafts = append(c.Rafts, raft)
	c.mu.Unlock()
	if err := c.Start(i); err != nil {
		return i, err
	}
	return i, nil
}
