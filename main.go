// Command terraform-provider-ferry serves the ferry Terraform provider. Run
// as `terraform-provider-ferry serve ...` it is the engine itself, which is
// how the provider starts an embedded engine from its own binary.
package main

import (
	"context"
	"flag"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/ferryhq/terraform-provider-ferry/internal/cli"
	"github.com/ferryhq/terraform-provider-ferry/internal/provider"
	"github.com/ferryhq/terraform-provider-ferry/internal/version"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "serve" || os.Args[1] == "version" || os.Args[1] == "stop" || os.Args[1] == "status" || os.Args[1] == "ca") {
		os.Exit(cli.Run(os.Args[1:]))
	}
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	err := providerserver.Serve(context.Background(), provider.New(version.Version), providerserver.ServeOpts{
		Address: "registry.terraform.io/ferryhq/ferry",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
