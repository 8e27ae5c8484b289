package examples_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ferryhq/terraform-provider-ferry/internal/client"
	"github.com/ferryhq/terraform-provider-ferry/internal/engine/artifacts/s3/s3test"
	"github.com/ferryhq/terraform-provider-ferry/internal/pgtest"
)

// manifest is what TestKubernetesManifests reads of examples/kubernetes/ferry.yaml.
type manifest struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				Containers []struct {
					Env []struct {
						Name      string `yaml:"name"`
						Value     string `yaml:"value"`
						ValueFrom *struct {
							FieldRef struct {
								FieldPath string `yaml:"fieldPath"`
							} `yaml:"fieldRef"`
						} `yaml:"valueFrom"`
					} `yaml:"env"`
					EnvFrom []struct {
						SecretRef struct {
							Name string `yaml:"name"`
						} `yaml:"secretRef"`
					} `yaml:"envFrom"`
					Ports []struct {
						Name          string `yaml:"name"`
						ContainerPort int    `yaml:"containerPort"`
					} `yaml:"ports"`
					ReadinessProbe struct {
						Exec struct {
							Command []string `yaml:"command"`
						} `yaml:"exec"`
					} `yaml:"readinessProbe"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
		// A Service's.
		Ports []struct {
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

// TestKubernetesManifests checks examples/kubernetes against ferry itself: the Services reach the
// ports the Deployment's containers listen on, every FERRY_ variable the pods get is one `ferry
// serve` reads, and a node started with exactly the pod's environment (its PostgreSQL, S3 and
// addresses pointed at local stand-ins) starts, passes the readiness probe's command and lists
// itself under the pod's name.
func TestKubernetesManifests(t *testing.T) {
	bin := ferryBinary(t)
	raw, err := os.ReadFile(filepath.Join(repoRoot, "examples/kubernetes/ferry.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]manifest{}
	serviceSelectors := map[string]map[string]string{}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var m manifest
		var node yaml.Node
		if err := dec.Decode(&node); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if err := node.Decode(&m); err != nil {
			t.Fatal(err)
		}
		var service struct {
			Spec struct {
				Selector map[string]string `yaml:"selector"`
			} `yaml:"spec"`
		}
		if err := node.Decode(&service); err == nil && m.Kind == "Service" {
			serviceSelectors[m.Metadata.Name] = service.Spec.Selector
		}
		docs[m.Kind+"/"+m.Metadata.Name] = m
	}
	deployment, secret := docs["Deployment/ferry"], docs["Secret/ferry"]
	if len(deployment.Spec.Template.Spec.Containers) != 1 || len(secret.StringData) == 0 {
		t.Fatalf("want the Deployment ferry with one container and the Secret ferry: %v", keysOf(docs))
	}
	pod := deployment.Spec.Template
	container := pod.Spec.Containers[0]
	for k, v := range deployment.Spec.Selector.MatchLabels {
		if pod.Metadata.Labels[k] != v {
			t.Errorf("the Deployment's selector %s=%s does not match its pods", k, v)
		}
	}
	ports := map[string]int{}
	for _, p := range container.Ports {
		ports[p.Name] = p.ContainerPort
	}

	// The pod's environment, as the kubelet makes it for a pod named ferry-7d9c-x2x4z.
	const podName = "ferry-7d9c-x2x4z"
	env := map[string]string{}
	for _, e := range container.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			env[e.Name] = podName
		case e.ValueFrom != nil:
			t.Fatalf("%s: a valueFrom this test does not know", e.Name)
		default:
			env[e.Name] = e.Value
		}
	}
	if len(container.EnvFrom) != 1 || container.EnvFrom[0].SecretRef.Name != "ferry" {
		t.Fatalf("the container's envFrom: %+v, want the Secret ferry", container.EnvFrom)
	}
	for k, v := range secret.StringData {
		env[k] = v
	}
	help, _ := exec.Command(bin, "serve", "--help").CombinedOutput()
	for name := range env {
		if !strings.Contains(string(help), name) {
			t.Errorf("the pods get %s, which ferry serve does not read", name)
		}
	}
	for name, port := range map[string]string{"FERRY_HTTP_ADDRESS": "apps", "FERRY_API_ADDRESS": "api"} {
		_, p, _ := net.SplitHostPort(env[name])
		if p == "" || p != strconv.Itoa(ports[port]) {
			t.Errorf("%s=%s, but the container's port %q is %d", name, env[name], port, ports[port])
		}
	}
	for _, name := range []string{"ferry-apps", "ferry-api"} {
		svc := docs["Service/"+name]
		for k, v := range serviceSelectors[name] {
			if pod.Metadata.Labels[k] != v {
				t.Errorf("Service %s selects %s=%s, which the pods do not carry", name, k, v)
			}
		}
		if len(svc.Spec.Ports) != 1 || ports[svc.Spec.Ports[0].TargetPort] == 0 {
			t.Errorf("Service %s targets %+v, not a port of the container", name, svc.Spec.Ports)
		}
	}
	if apps := docs["Service/ferry-apps"]; len(apps.Spec.Ports) == 1 && strconv.Itoa(apps.Spec.Ports[0].Port) != env["FERRY_PUBLIC_HTTP_PORT"] {
		t.Errorf("FERRY_PUBLIC_HTTP_PORT=%s, but the apps Service listens on %d", env["FERRY_PUBLIC_HTTP_PORT"], apps.Spec.Ports[0].Port)
	}
	dockerfile, err := os.ReadFile(filepath.Join(repoRoot, "examples/kubernetes/Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	probe := container.ReadinessProbe.Exec.Command
	if len(probe) == 0 || !strings.Contains(string(dockerfile), "COPY bin/ferry "+probe[0]) ||
		!strings.Contains(string(dockerfile), `ENTRYPOINT ["`+probe[0]+`", "serve"]`) {
		t.Errorf("the readiness probe runs %v; the image's ferry is not there, or not its entrypoint", probe)
	}

	// A node with the pod's environment, its external services and addresses made local.
	db := pgtest.Start(t)
	db.Exec(t, "postgres", "CREATE DATABASE ferry")
	dsn, err := url.Parse(db.DirectURL())
	if err != nil {
		t.Fatal(err)
	}
	dsn.Path = "/ferry"
	objects := s3test.Start(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	dataDir := newDataDir(t)
	t.Cleanup(func() { _ = os.RemoveAll(dataDir) })
	apiAddress := "127.0.0.1:" + freePort(t)
	env["FERRY_STORE"], env["FERRY_ARTIFACTS"] = dsn.String(), objects.URL(objects.Bucket(t), "k8s")
	env["FERRY_SECRET_KEY"] = base64.StdEncoding.EncodeToString(key)
	env["FERRY_TOKEN"] = "kubernetes-test-token-0123456789"
	env["FERRY_DATA_DIR"] = filepath.Join(dataDir, "data")
	env["FERRY_HTTP_ADDRESS"], env["FERRY_API_ADDRESS"] = "127.0.0.1:"+freePort(t), apiAddress
	env["FERRY_PYTHON"] = testPython
	cmd := exec.Command(bin, "serve")
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("ferry serve:\n%s", log.String())
		}
	})
	ready := append([]string{}, probe[1:]...)
	for i, arg := range ready {
		if arg == "/var/lib/ferry" {
			ready[i] = env["FERRY_DATA_DIR"]
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := exec.Command(bin, ready...).CombinedOutput()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the readiness probe's command kept failing: %v\n%s", err, out)
		}
		time.Sleep(300 * time.Millisecond)
	}
	c, err := client.New(client.Config{Endpoint: "http://" + apiAddress, Token: env["FERRY_TOKEN"]})
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.Nodes(context.Background())
	if err != nil || len(list.Nodes) != 1 || list.Nodes[0].ID != podName {
		t.Fatalf("the node's list: %+v, %v; want the pod's name", list, err)
	}
}

func keysOf(m map[string]manifest) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
