package cli

import (
	"io"

	"github.com/ferryhq/terraform-provider-ferry/internal/launcher"
)

func serve([]string, io.Writer) error {
	return launcher.ErrNoEmbeddedEngine
}

func backup(string, string, io.Writer) error {
	return launcher.ErrNoEmbeddedEngine
}

func restore(string, string, io.Writer) error {
	return launcher.ErrNoEmbeddedEngine
}

func printCA(string, io.Writer) error {
	return launcher.ErrNoEmbeddedEngine
}
