package apiserver

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/ferryhq/terraform-provider-ferry/internal/api"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets/envelope"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/secrets/keyfile"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/store"
)

func (s *Server) routeSecretKeys() {
	s.handle("GET", api.PathSecretKeys, s.listSecretKeys)
	s.handle("POST", api.PathSecretKeys, s.addSecretKey)
	s.handle("DELETE", api.PathSecretKey, s.retireSecretKey)
}

func (s *Server) listSecretKeys(r *http.Request) (int, any, error) {
	keys, err := s.cfg.Keys.Keys(r.Context())
	if err != nil {
		return 0, nil, err
	}
	out := api.SecretKeyList{Keys: []api.SecretKey{}}
	for _, k := range keys {
		out.Keys = append(out.Keys, s.secretKeyOut(k))
	}
	return http.StatusOK, out, nil
}

func (s *Server) secretKeyOut(k store.SecretKey) api.SecretKey {
	return api.SecretKey{Fingerprint: k.Fingerprint, CreatedAt: k.CreatedAt, InUse: k.Fingerprint == s.cfg.Keys.Fingerprint()}
}

func (s *Server) addSecretKey(r *http.Request) (int, any, error) {
	var req api.SecretKeyRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	kek, err := keyfile.Decode(req.Key)
	if err != nil {
		return 0, nil, &api.Error{Code: api.CodeBadRequest, Field: "key", Message: err.Error()}
	}
	k, err := s.cfg.Keys.Add(r.Context(), kek)
	if err != nil {
		return 0, nil, err
	}
	s.cfg.Logger.Info("secret key added", "fingerprint", k.Fingerprint)
	return http.StatusOK, s.secretKeyOut(k), nil
}

func (s *Server) retireSecretKey(r *http.Request) (int, any, error) {
	fingerprint := r.PathValue("fingerprint")
	err := s.cfg.Keys.Retire(r.Context(), fingerprint)
	switch {
	case errors.Is(err, envelope.ErrKeyInUse):
		return 0, nil, &api.Error{Code: api.CodeConflict, Message: fmt.Sprintf("key %s is the one this engine runs on: restart the engine with the new key "+
			"(--key-file or FERRY_SECRET_KEY), then retire the old one through it", fingerprint)}
	case errors.Is(err, store.ErrLastKey):
		return 0, nil, &api.Error{Code: api.CodeConflict, Message: fmt.Sprintf("key %s is the only key of the store: without it no engine could start; "+
			"add its successor first with `ferry key rotate --new-key-file FILE`", fingerprint)}
	case errors.Is(err, store.ErrNotFound):
		return 0, nil, &api.Error{Code: api.CodeNotFound, Message: fmt.Sprintf("no key %s: `ferry key list` shows the fingerprints of the store's keys", fingerprint)}
	case err != nil:
		return 0, nil, err
	}
	s.cfg.Logger.Info("secret key retired", "fingerprint", fingerprint)
	return http.StatusNoContent, nil, nil
}
