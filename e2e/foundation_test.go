package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodriver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.temporal.io/sdk/client"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/internal/problem"
	"github.com/onramp-dev/onramp/workflows"
)

func TestE2EFoundationReadyz(t *testing.T) {
	st := MustSharedStack(t)
	var r struct {
		Status string `json:"status"`
		Checks map[string]struct {
			Status    string  `json:"status"`
			LatencyMS float64 `json:"latency_ms"`
		} `json:"checks"`
	}
	MustGetJSON(t, st.PortalURL+"/readyz", http.StatusOK, &r)
	if r.Status != "ready" {
		t.Errorf("status = %q, want ready", r.Status)
	}
	for _, dep := range []string{"mongodb", "temporal", "kratos"} {
		c, ok := r.Checks[dep]
		if !ok || c.Status != "up" || c.LatencyMS <= 0 {
			t.Errorf("check %s = %+v (present %v), want up with a measured latency", dep, c, ok)
		}
	}
	MustGetJSON(t, st.PortalURL+"/healthz", http.StatusOK, nil)
}

func TestE2EFoundationMongoWireProtocol(t *testing.T) {
	st := MustSharedStack(t)
	ctx := t.Context()
	c, err := mongodriver.Connect(options.Client().ApplyURI(st.MongoURI))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	coll := c.Database("e2e").Collection("foundation")
	id := fmt.Sprintf("doc-%d", time.Now().UnixNano())
	if _, err := coll.InsertOne(ctx, bson.M{"_id": id, "name": "Acme Payments", "n": 42}); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}
	var got struct {
		Name string `bson:"name"`
		N    int    `bson:"n"`
	}
	if err := coll.FindOne(ctx, bson.M{"_id": id}).Decode(&got); err != nil {
		t.Fatalf("FindOne: %v", err)
	}
	if got.Name != "Acme Payments" || got.N != 42 {
		t.Errorf("read back %+v, want the document written", got)
	}
}

func TestE2EFoundationWorkflowRunsOnTemporal(t *testing.T) {
	st := MustSharedStack(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	to := fmt.Sprintf("ops+%d@provider.example", time.Now().UnixNano())
	run, err := st.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: "e2e-smoke-" + to, TaskQueue: workflows.TaskQueue,
	}, workflows.SmokeWorkflowName, workflows.SmokeInput{To: to})
	if err != nil {
		t.Fatalf("ExecuteWorkflow: %v", err)
	}
	var res workflows.SmokeResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	MustReplayLiveHistory(t, st.Temporal, run.GetID(), "smoke.json")
	// The activity wrote the message through MongoDB; the portal's mailbox reads it back.
	m := MustWaitForMail(t, st.PortalURL, to, func(m mailMessage) bool { return m.ID == res.MessageID }, 5*time.Second)
	if m.Subject != "Onramp smoke test" {
		t.Errorf("subject = %q", m.Subject)
	}
}

func TestE2EFoundationKratosCodeLogin(t *testing.T) {
	st := MustSharedStack(t)
	ctx := t.Context()
	email := fmt.Sprintf("dev+%d@partner.example", time.Now().UnixNano())
	id, err := st.Kratos.CreateIdentity(ctx, email)
	if err != nil {
		t.Fatalf("CreateIdentity: %v", err)
	}
	if _, err := st.Kratos.CreateIdentity(ctx, email); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("second CreateIdentity error = %v, want ECONFLICT", err)
	}
	flow, err := st.Kratos.StartCodeLogin(ctx, email)
	if err != nil {
		t.Fatalf("StartCodeLogin: %v", err)
	}
	m := MustWaitForMail(t, st.PortalURL, email, func(m mailMessage) bool { return m.TemplateData["login_code"] != "" }, 15*time.Second)
	wrong := "000000"
	if m.TemplateData["login_code"] == wrong {
		wrong = "111111"
	}
	if _, err := st.Kratos.CompleteCodeLogin(ctx, flow, email, wrong); onramp.ErrorCode(err) != onramp.EUNAUTHORIZED {
		t.Errorf("wrong code: error = %v, want EUNAUTHORIZED", err)
	}
	token, err := st.Kratos.CompleteCodeLogin(ctx, flow, email, m.TemplateData["login_code"])
	if err != nil {
		t.Fatalf("CompleteCodeLogin: %v", err)
	}
	who, err := st.Kratos.Whoami(ctx, token)
	if err != nil {
		t.Fatalf("Whoami: %v", err)
	}
	if who.IdentityID != id || who.Email != email {
		t.Errorf("session belongs to %+v, want identity %s (%s)", who, id, email)
	}
	if _, err := st.Kratos.Whoami(ctx, "ory_st_notavalidtoken"); onramp.ErrorCode(err) != onramp.EUNAUTHORIZED {
		t.Errorf("Whoami(bogus) error = %v, want EUNAUTHORIZED", err)
	}
}

func TestE2EFoundationUnknownEmailLooksTheSame(t *testing.T) {
	st := MustSharedStack(t)
	// Kratos refuses unknown addresses with a distinct error (ory/kratos#4521); the adapter must not.
	if _, err := st.Kratos.StartCodeLogin(t.Context(), "nobody-"+fmt.Sprint(time.Now().UnixNano())+"@partner.example"); err != nil {
		t.Fatalf("StartCodeLogin(unknown) = %v, want the same success as for a known address", err)
	}
}

func TestE2EFoundationGatewayProblem(t *testing.T) {
	st := MustSharedStack(t)
	bodies := map[string]string{}
	for env, base := range map[string]string{"sandbox": st.SandboxURL, "production": st.ProductionURL} {
		req, _ := http.NewRequest(http.MethodGet, base+"/payments/v1/payments", nil)
		req.Header.Set("X-Request-Id", "e2e-foundation-0001")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Content-Type") != problem.ContentType {
			t.Fatalf("%s: %d %s, want 401 problem+json", env, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var p problem.Problem
		if err := json.Unmarshal(b, &p); err != nil || p.Type != problem.TypeBase+"missing-credential" || !strings.Contains(p.Detail, st.PortalURL) {
			t.Errorf("%s problem = %s, want missing-credential naming the portal", env, b)
		}
		bodies[env] = strings.ReplaceAll(string(b), env, "ENV")
	}
	if bodies["sandbox"] != bodies["production"] {
		t.Errorf("sandbox and production error bodies differ:\n%s\n%s", bodies["sandbox"], bodies["production"])
	}
}

func TestE2EFoundationTemporalWebUI(t *testing.T) {
	st := MustSharedStack(t)
	var body struct {
		Namespaces []struct {
			NamespaceInfo struct {
				Name string `json:"name"`
			} `json:"namespaceInfo"`
		} `json:"namespaces"`
	}
	MustGetJSON(t, st.TemporalUIURL+"/api/v1/namespaces", http.StatusOK, &body)
	found := false
	for _, ns := range body.Namespaces {
		found = found || ns.NamespaceInfo.Name == "default"
	}
	if !found {
		t.Errorf("the Web UI does not list the default namespace: %+v", body)
	}
}

func TestE2EFoundationAdminToken(t *testing.T) {
	st := MustSharedStack(t)
	token, err := os.ReadFile(st.AdminTokenPath)
	if err != nil {
		t.Fatalf("admin token file: %v", err)
	}
	MustDoInvalid(t, "GET", st.PortalURL+"/admin/api/v1/system", nil, http.StatusUnauthorized, nil)
	MustGetJSON(t, st.PortalURL+"/admin/api/v1/system", http.StatusUnauthorized, nil, "Authorization", "Bearer wrong-token-wrong-token-wrong-token")
	var sys struct {
		DevMode bool `json:"dev_mode"`
	}
	MustGetJSON(t, st.PortalURL+"/admin/api/v1/system", http.StatusOK, &sys, "Authorization", "Bearer "+strings.TrimSpace(string(token)))
	if !sys.DevMode {
		t.Error("dev_mode = false, want true")
	}
	if info, _ := os.Stat(st.AdminTokenPath); info.Mode().Perm() != 0o600 {
		t.Errorf("admin-token mode = %v, want 0600", info.Mode().Perm())
	}
}

// A restarted `onramp dev` finds its data: what the worker delivered and the Kratos identity.
func TestE2EFoundationRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	st, err := startStack(ctx, DevConfig(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	email := "persist@partner.example"
	if _, err := st.Kratos.CreateIdentity(ctx, email); err != nil {
		st.Stop(ctx)
		t.Fatal(err)
	}
	run, err := st.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "persist", TaskQueue: workflows.TaskQueue},
		workflows.SmokeWorkflowName, workflows.SmokeInput{To: email})
	if err == nil {
		err = run.Get(ctx, nil)
	}
	token1, _ := os.ReadFile(st.AdminTokenPath)
	if serr := st.Stop(ctx); err != nil || serr != nil {
		t.Fatalf("run: %v; stop: %v", err, serr)
	}

	st, err = startStack(ctx, DevConfig(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop(context.WithoutCancel(ctx))
	MustWaitForMail(t, st.PortalURL, email, func(m mailMessage) bool { return m.Subject == "Onramp smoke test" }, time.Second)
	if _, err := st.Kratos.CreateIdentity(ctx, email); onramp.ErrorCode(err) != onramp.ECONFLICT {
		t.Errorf("after restart CreateIdentity = %v, want ECONFLICT (the identity should still exist)", err)
	}
	// The completed workflow is still in Temporal's history.
	desc, err := st.Temporal.DescribeWorkflowExecution(ctx, "persist", "")
	if err != nil {
		t.Fatalf("DescribeWorkflowExecution after restart: %v", err)
	}
	if got := desc.WorkflowExecutionInfo.Status.String(); got != "Completed" {
		t.Errorf("workflow status after restart = %s, want Completed", got)
	}
	token2, _ := os.ReadFile(st.AdminTokenPath)
	if string(token1) != string(token2) || len(token1) == 0 {
		t.Error("the admin token changed across a restart")
	}
}
