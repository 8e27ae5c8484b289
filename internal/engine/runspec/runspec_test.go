package runspec

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	good := Spec{AppDir: "src", Python: "venv/bin/python", Entrypoint: "app:app", Kind: KindWSGI}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid spec refused: %v", err)
	}
	tests := map[string]struct {
		change func(*Spec)
		want   string
	}{
		"absolute app dir":   {func(s *Spec) { s.AppDir = "/srv/app" }, "app_dir"},
		"app dir leaves":     {func(s *Spec) { s.AppDir = "../other" }, "app_dir"},
		"absolute python":    {func(s *Spec) { s.Python = "/usr/bin/python3" }, "python"},
		"unknown kind":       {func(s *Spec) { s.Kind = "cgi" }, "kind"},
		"missing entrypoint": {func(s *Spec) { s.Entrypoint = "" }, "entrypoint"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			s := good
			tt.change(&s)
			if err := s.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}
