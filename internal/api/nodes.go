package api

import "time"

// PathNodes lists the engine nodes that share the engine's store (GET): one for an engine of its
// own, every node of a cluster on PostgreSQL.
const PathNodes = "/v1/nodes"

// Node is an engine node as its heartbeats describe it.
type Node struct {
	ID          string    `json:"id"`
	Version     string    `json:"version"`
	HTTPAddress string    `json:"http_address"`
	APIAddress  string    `json:"api_address,omitempty"`
	StartedAt   time.Time `json:"started_at"`
	SeenAt      time.Time `json:"seen_at"`
	// Its load at its last heartbeat: app instances running, and builds.
	Instances int `json:"instances"`
	Builds    int `json:"builds"`
	// Lost is set for a node whose heartbeats stopped without it leaving: killed, or cut off.
	Lost bool `json:"lost"`
}

// NodeList answers GET PathNodes.
type NodeList struct {
	Nodes []Node `json:"nodes"`
	Self  string `json:"self"` // the id of the node that answered
}
