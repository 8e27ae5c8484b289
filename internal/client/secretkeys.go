package client

import (
	"context"
	"net/http"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
)

// SecretKeys lists the keys the store's data key is wrapped under.
func (c *Client) SecretKeys(ctx context.Context) (*api.SecretKeyList, error) {
	var out api.SecretKeyList
	if err := c.do(ctx, http.MethodGet, api.PathSecretKeys, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AddSecretKey wraps the store's data key under key (base64 of 32 bytes), so that engines
// given it run on the store too. Adding a key twice is not an error.
func (c *Client) AddSecretKey(ctx context.Context, key string) (*api.SecretKey, error) {
	var out api.SecretKey
	if err := c.do(ctx, http.MethodPost, api.PathSecretKeys, nil, api.SecretKeyRequest{Key: key}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RetireSecretKey drops the wrap of the key of fingerprint: engines given it no longer start.
func (c *Client) RetireSecretKey(ctx context.Context, fingerprint string) error {
	return c.do(ctx, http.MethodDelete, expand(api.PathSecretKey, "fingerprint", fingerprint), nil, nil, nil)
}
