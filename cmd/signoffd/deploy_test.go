package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

const deployDir = "../../deploy"

// loadEnv loads an environment, as a manifest gives it, with signoffd's
// own configuration code.
func loadEnv(t *testing.T, where string, env map[string]string) Config {
	t.Helper()
	cfg, err := loadConfig(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("%s: signoffd refuses its settings: %v", where, err)
	}
	return cfg
}

// TestDockerfile: two stages, a non-root user in the image that runs,
// the speech and audio libraries installed there, and settings signoffd
// accepts.
func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(deployDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(raw), "\\\n", " ")
	var stages []string // the text of each stage
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "FROM ") {
			stages = append(stages, "")
		}
		if len(stages) == 0 {
			t.Fatalf("instruction before FROM: %s", line)
		}
		stages[len(stages)-1] += line + "\n"
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages; want a build stage and a run stage", len(stages))
	}
	run := stages[len(stages)-1]
	user := regexp.MustCompile(`(?m)^USER (\S+)`).FindAllStringSubmatch(run, -1)
	if len(user) == 0 || strings.HasPrefix(user[len(user)-1][1], "0") || strings.HasPrefix(user[len(user)-1][1], "root") {
		t.Errorf("the run stage's USER is %v; want a non-root user", user)
	}
	for _, pkg := range []string{"espeak-ng", "libpocketsphinx3", "pocketsphinx-en-us", "libopus0"} {
		if !regexp.MustCompile(`apt-get install[^\n]*\b` + regexp.QuoteMeta(pkg) + `\b`).MatchString(run) {
			t.Errorf("the run stage does not install %s", pkg)
		}
	}
	if !strings.Contains(run, "COPY --from=build") || !strings.Contains(run, `ENTRYPOINT ["/usr/local/bin/signoffd"]`) {
		t.Error("the run stage does not copy signoffd from the build stage and run it")
	}
	if !strings.Contains(stages[0], "go build") || !strings.Contains(stages[0], "./cmd/signoffd") {
		t.Error("the build stage does not build ./cmd/signoffd")
	}
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^ENV (.*)$`).FindAllStringSubmatch(run, -1) {
		for _, kv := range strings.Fields(m[1]) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	cfg := loadEnv(t, "Dockerfile", env)
	if cfg.Addr != ":8080" || !strings.Contains(text, "EXPOSE 8080") {
		t.Errorf("listens on %q; the image exposes 8080", cfg.Addr)
	}
}

// interpolate expands ${NAME}, ${NAME:-default} and ${NAME:?message} as
// compose does, from vars.
func interpolate(s string, vars map[string]string) string {
	re := regexp.MustCompile(`\$\{([A-Z_]+)(?::([-?])([^}]*))?\}`)
	return re.ReplaceAllStringFunc(s, func(m string) string {
		p := re.FindStringSubmatch(m)
		if v, ok := vars[p[1]]; ok && v != "" {
			return v
		}
		if p[2] == "-" {
			return p[3]
		}
		return ""
	})
}

var composeVars = map[string]string{
	"SIGNOFF_WEBHOOK_SECRET": testSecret,
	"SIGNOFF_COURIER_SECRET": "a-courier-secret-for-tests",
}

// TestCompose: two signoffd nodes on one Redis with an append-only file,
// settings signoffd accepts, and `docker compose config` agrees where the
// client exists.
func TestCompose(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(deployDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			DependsOn   map[string]any    `yaml:"depends_on"`
			Ports       []string          `yaml:"ports"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(interpolate(string(raw), composeVars)), &doc); err != nil {
		t.Fatal(err)
	}
	var nodes []string
	for name, s := range doc.Services {
		if s.Environment["REDIS_URL"] == "" {
			continue
		}
		nodes = append(nodes, name)
		cfg := loadEnv(t, "compose "+name, s.Environment)
		if cfg.RedisURL != "redis://redis:6379/0" || cfg.devSecret || cfg.devCourierSecret {
			t.Errorf("%s: redis %q, development secrets %v %v", name, cfg.RedisURL, cfg.devSecret, cfg.devCourierSecret)
		}
		if _, ok := s.DependsOn["redis"]; !ok || len(s.Ports) != 1 {
			t.Errorf("%s: depends on %v, ports %v", name, s.DependsOn, s.Ports)
		}
	}
	if len(nodes) != 2 {
		t.Errorf("signoffd services %v; want 2", nodes)
	}
	if r := doc.Services["redis"]; !slices.Contains(r.Command, "--appendonly") {
		t.Errorf("redis runs %v; want the append-only file on", r.Command)
	}

	// The real client, where there is one (it needs no engine for this).
	for _, argv := range [][]string{{"docker", "compose"}, {"docker-compose"}} {
		if _, err := exec.LookPath(argv[0]); err != nil {
			continue
		}
		if err := exec.Command(argv[0], append(argv[1:], "version")...).Run(); err != nil {
			t.Logf("%s is not usable here (%v): the compose file is checked by parsing only", strings.Join(argv, " "), err)
			continue
		}
		cmd := exec.Command(argv[0], append(argv[1:], "-f", filepath.Join(deployDir, "compose.yaml"), "config", "--quiet")...)
		cmd.Env = append(os.Environ(), "SIGNOFF_WEBHOOK_SECRET="+testSecret, "SIGNOFF_COURIER_SECRET=a-courier-secret-for-tests")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s config: %v\n%s", strings.Join(argv, " "), err, out)
		}
	}
}

type object struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   map[string]any    `yaml:"metadata"`
	Spec       map[string]any    `yaml:"spec"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Resources  []string          `yaml:"resources"`
}

// TestKubernetesManifests: every file the kustomization names parses; the
// Deployment's settings (ConfigMap and Secret) are accepted by signoffd;
// probes, the non-root context, the drain and the selectors of the Service,
// PodDisruptionBudget and HorizontalPodAutoscaler fit together.
func TestKubernetesManifests(t *testing.T) {
	dir := filepath.Join(deployDir, "k8s")
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var kust object
	if err := yaml.Unmarshal(raw, &kust); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(kust.Resources) != len(files)-1 {
		t.Errorf("kustomization names %d files; the directory has %d manifests", len(kust.Resources), len(files)-1)
	}
	byKind := map[string][]object{}
	for _, f := range kust.Resources {
		raw, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(raw), -1) {
			if strings.TrimSpace(part) == "" {
				continue
			}
			var o object
			if err := yaml.Unmarshal([]byte(part), &o); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if o.Kind == "" || o.APIVersion == "" {
				t.Errorf("%s: an object without kind or apiVersion", f)
			}
			if ns, _ := o.Metadata["namespace"].(string); o.Kind != "Namespace" && ns != "signoff" {
				t.Errorf("%s: %s %v in namespace %q", f, o.Kind, o.Metadata["name"], ns)
			}
			byKind[o.Kind] = append(byKind[o.Kind], o)
		}
	}
	for _, k := range []string{"Namespace", "ConfigMap", "Secret", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "StatefulSet"} {
		if len(byKind[k]) == 0 {
			t.Errorf("no %s", k)
		}
	}
	if t.Failed() {
		return
	}
	env := map[string]string{}
	for k, v := range byKind["ConfigMap"][0].Data {
		env[k] = v
	}
	for k, v := range byKind["Secret"][0].StringData {
		env[k] = v
	}
	cfg := loadEnv(t, "ConfigMap and Secret", env)
	if cfg.devSecret || cfg.devCourierSecret || cfg.RedisURL == "" || len(cfg.Prod.TrustedProxies) == 0 {
		t.Errorf("config: development secrets %v %v, redis %q, trusted proxies %v", cfg.devSecret, cfg.devCourierSecret, cfg.RedisURL, cfg.Prod.TrustedProxies)
	}

	// The Deployment, read through a typed view of the parts that matter.
	dep := byKind["Deployment"][0]
	var spec struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				Grace    int `yaml:"terminationGracePeriodSeconds"`
				Security struct {
					RunAsNonRoot bool `yaml:"runAsNonRoot"`
					RunAsUser    int  `yaml:"runAsUser"`
				} `yaml:"securityContext"`
				Containers []struct {
					Ports []struct {
						ContainerPort int `yaml:"containerPort"`
					} `yaml:"ports"`
					EnvFrom []map[string]map[string]string `yaml:"envFrom"`
					Ready   struct {
						HTTPGet struct {
							Path string `yaml:"path"`
						} `yaml:"httpGet"`
					} `yaml:"readinessProbe"`
					Live struct {
						HTTPGet struct {
							Path string `yaml:"path"`
						} `yaml:"httpGet"`
					} `yaml:"livenessProbe"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	}
	remarshal(t, dep.Spec, &spec)
	pod := spec.Template.Spec
	if !pod.Security.RunAsNonRoot || pod.Security.RunAsUser == 0 {
		t.Errorf("pod security context %+v; want non-root", pod.Security)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Ready.HTTPGet.Path != "/readyz" || c.Live.HTTPGet.Path != "/healthz" {
		t.Errorf("probes %q and %q; want /readyz and /healthz", c.Ready.HTTPGet.Path, c.Live.HTTPGet.Path)
	}
	if len(c.Ports) != 1 || ":"+strconv.Itoa(c.Ports[0].ContainerPort) != cfg.Addr {
		t.Errorf("container port %v; signoffd listens on %q", c.Ports, cfg.Addr)
	}
	refs := map[string]string{}
	for _, ef := range c.EnvFrom {
		for kind, ref := range ef {
			refs[kind] = ref["name"]
		}
	}
	if refs["configMapRef"] != byKind["ConfigMap"][0].Metadata["name"] || refs["secretRef"] != byKind["Secret"][0].Metadata["name"] {
		t.Errorf("envFrom %v does not name the ConfigMap and Secret", refs)
	}
	if drain := cfg.Prod.DrainDelay + cfg.ShutdownTimeout; time.Duration(pod.Grace)*time.Second <= drain {
		t.Errorf("terminationGracePeriodSeconds %d; the drain takes up to %v", pod.Grace, drain)
	}
	labels := spec.Template.Metadata.Labels
	matches := func(sel map[string]string) bool {
		for k, v := range sel {
			if labels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	}
	if !matches(spec.Selector.MatchLabels) {
		t.Errorf("Deployment selector %v does not match its pods %v", spec.Selector.MatchLabels, labels)
	}
	var svc struct {
		Selector map[string]string `yaml:"selector"`
	}
	for _, o := range byKind["Service"] {
		if o.Metadata["name"] == dep.Metadata["name"] {
			remarshal(t, o.Spec, &svc)
		}
	}
	var pdb struct {
		MinAvailable int `yaml:"minAvailable"`
		Selector     struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
	}
	remarshal(t, byKind["PodDisruptionBudget"][0].Spec, &pdb)
	var hpa struct {
		Target struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"scaleTargetRef"`
		Min int `yaml:"minReplicas"`
	}
	remarshal(t, byKind["HorizontalPodAutoscaler"][0].Spec, &hpa)
	if !matches(svc.Selector) || !matches(pdb.Selector.MatchLabels) {
		t.Errorf("Service %v or PodDisruptionBudget %v does not select the pods %v", svc.Selector, pdb.Selector.MatchLabels, labels)
	}
	if hpa.Target.Kind != "Deployment" || hpa.Target.Name != dep.Metadata["name"] || hpa.Min <= pdb.MinAvailable {
		t.Errorf("HPA targets %+v with min %d; the Deployment is %v and the PDB keeps %d", hpa.Target, hpa.Min, dep.Metadata["name"], pdb.MinAvailable)
	}
}

func remarshal(t *testing.T, in any, out any) {
	t.Helper()
	b, err := yaml.Marshal(in)
	if err == nil {
		err = yaml.Unmarshal(b, out)
	}
	if err != nil {
		t.Fatal(err)
	}
}
