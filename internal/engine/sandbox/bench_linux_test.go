package sandbox

import (
	"os"
	"os/exec"
	"testing"
)

// BenchmarkStart measures what the sandbox adds to starting a process: /bin/true started and
// waited for, with no sandbox and in each mode, with a project's default limits.
func BenchmarkStart(b *testing.B) {
	limits := Limits{MemoryMB: 2048, CPU: 1, Processes: 256, OpenFiles: 4096}
	modes := []struct {
		name string
		mode Mode
	}{{"none", ""}, {"landlock", ModeLandlock}, {"userns", ModeUserNS}, {"uids", ModeUIDs}}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			var s *Sandbox
			spec := Spec{Name: "bench", Limits: limits}
			if m.mode != "" {
				if m.mode == ModeUIDs && os.Geteuid() != 0 {
					b.Skip("mode uids needs root")
				}
				var err error
				if s, err = New(Config{Mode: m.mode, Name: "bench-start-" + m.name}); err != nil {
					b.Skip(err)
				}
				b.Cleanup(s.Close)
				spec.Identity = Identity{UID: DefaultFirstUID, GID: DefaultFirstUID}
			}
			for b.Loop() {
				p, err := s.Start(exec.Command("/bin/true"), spec)
				if err != nil {
					b.Fatal(err)
				}
				if err := p.Wait(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
