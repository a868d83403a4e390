package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/signoff/signoff/internal/openaitest"
	"github.com/signoff/signoff/internal/redistest"
)

func replyTexts(m map[string]any) []string {
	var out []string
	rs, _ := m["replies"].([]any)
	for _, r := range rs {
		if mm, ok := r.(map[string]any); ok {
			s, _ := mm["text"].(string)
			out = append(out, s)
		}
	}
	return out
}

// TestModelAndKnowledgeEndToEnd runs the real binary with a real redis-server
// and an OpenAI-compatible test server: a question answered by the model
// from an operator's document, with its citation stripped; an option not
// offered and malformed tool-call JSON, each re-asked with nothing recorded;
// a model that hangs past SIGNOFF_LLM_TIMEOUT, where the rules answer in
// time; free text mapped to option 3, read back, and recorded after "对".
func TestModelAndKnowledgeEndToEnd(t *testing.T) {
	redisAddr := redistest.Start(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "zh-CN"), 0o755); err != nil {
		t.Fatal(err)
	}
	doc := "# 宠物和活体\n<!-- q: 能寄宠物吗 | 快递能送活的动物吗 -->\n## 活体不收\n我们不收寄猫、狗、仓鼠等任何活体动物。\n<!-- q: 仓鼠能快递吗 -->\n"
	if err := os.WriteFile(filepath.Join(dir, "zh-CN", "pets.md"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	mode := "question"
	model := openaitest.New(t, func(r openaitest.Request) openaitest.Reply {
		mu.Lock()
		defer mu.Unlock()
		if len(r.Tools) == 0 { // phrasing an answer
			if mode == "hang" {
				return openaitest.Reply{Delay: time.Minute}
			}
			if strings.Contains(r.Text(), "我们不收寄猫、狗、仓鼠等任何活体动物。") {
				return openaitest.Stream(5*time.Millisecond, "不行，", "我们不收寄任何活体动物。", "[1]")
			}
			return openaitest.Reply{Content: "我不知道。"}
		}
		switch mode {
		case "hang":
			return openaitest.Reply{Delay: time.Minute}
		case "off-list":
			return openaitest.ToolCall("place_reply", `{"choice":"7"}`)
		case "malformed":
			return openaitest.ToolCall("place_reply", `{"choice":"3"`)
		case "station":
			return openaitest.ToolCall("place_reply", `{"choice":"3"}`)
		}
		return openaitest.ToolCall("place_reply", `{"choice":"question"}`)
	})
	setMode := func(m string) { mu.Lock(); mode = m; mu.Unlock() }

	bin := buildServer(t)
	srv := startServer(t, bin, "REDIS_URL=redis://"+redisAddr+"/0", "OPENAI_BASE_URL="+model.URL(),
		"OPENAI_API_KEY=sk-test", "SIGNOFF_LLM_MODEL=test-model", "SIGNOFF_LLM_TIMEOUT=700ms", "SIGNOFF_KNOWLEDGE_DIR="+dir)
	status, open := sendWebhook(t, srv.url, "msg_llm_1", opening("LLM-1"))
	if status != 202 {
		t.Fatalf("opening webhook: %d %v", status, open)
	}
	sid, token := open["session_id"].(string), open["recipient_token"].(string)

	// A question answered from the operator's document, phrased by the
	// model; the [1] citation is gone.
	r := chat(t, srv.url, sid, token, "仓鼠能不能寄快递")
	texts := replyTexts(r)
	if len(texts) < 2 || texts[0] != "不行，我们不收寄任何活体动物。" {
		t.Fatalf("answer %q, want the model's answer without [1]", texts)
	}
	var phrased bool
	for _, req := range model.Requests() {
		phrased = phrased || (len(req.Tools) == 0 && req.Stream && strings.Contains(req.Text(), "仓鼠"))
	}
	if !phrased {
		t.Error("no streamed phrasing request carried the question and the operator's passage")
	}

	// A key not offered, then malformed arguments: asked again, nothing
	// recorded.
	for _, m := range []string{"off-list", "malformed"} {
		setMode(m)
		r = chat(t, srv.url, sid, token, "我下班顺路自己过去拿")
		if r["state"] != "awaiting_choice" || r["outcome"] != nil {
			t.Errorf("%s: %v, want the menu again and nothing recorded", m, r)
		}
	}

	// A model that hangs: the rules answer within the timeout.
	setMode("hang")
	start := time.Now()
	r = chat(t, srv.url, sid, token, "包裹破损怎么办")
	took := time.Since(start)
	t.Logf("hanging model: the turn took %v (SIGNOFF_LLM_TIMEOUT=700ms)", took)
	if texts = replyTexts(r); len(texts) < 2 || !strings.Contains(texts[0], "破损") {
		t.Errorf("hanging model: replies %q, want the help centre's damage answer", texts)
	}
	if took > 5*time.Second {
		t.Errorf("hanging model: the turn took %v", took)
	}

	// Free text mapped to option 3, read back, recorded after a yes.
	setMode("station")
	r = chat(t, srv.url, sid, token, "我下班顺路自己过去拿")
	if r["state"] != "confirming" || r["outcome"] != nil || !strings.Contains(strings.Join(replyTexts(r), ""), "3") {
		t.Fatalf("mapped option: %v, want a read-back of 3", r)
	}
	r = chat(t, srv.url, sid, token, "对")
	if r["outcome"] != "pickup_station" || r["state"] != "arranged" {
		t.Fatalf("after 对: %v", r)
	}

	// The model calls are on /metrics: latency by op, and the errors (the
	// off-list key, the malformed arguments, the hang).
	metrics := get(t, srv.url+"/metrics")
	for _, want := range []string{`signoff_model_seconds_count{op="understand"}`, `signoff_model_seconds_count{op="phrase"}`,
		`signoff_model_errors_total{op="understand"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A bad operator document on SIGHUP: named in the log, the old index
	// kept.
	if err := os.WriteFile(filepath.Join(dir, "zh-CN", "broken.md"), []byte("没有标题\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(srv.logs.String(), "broken") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(srv.logs.String(), "knowledge reload failed") || !strings.Contains(srv.logs.String(), "broken") {
		t.Errorf("no reload failure naming broken.md in the log")
	}
	setMode("question")
	if texts = replyTexts(chat(t, srv.url, sid, token, "仓鼠能不能寄快递")); len(texts) == 0 || !strings.Contains(texts[0], "活体") {
		t.Errorf("after a failed reload: %q, want the operator's document still answering", texts)
	}
	if strings.Contains(srv.logs.String(), "13912345678") || strings.Contains(srv.logs.String(), "sk-test") {
		t.Error("the server log carries the recipient's phone or the API key")
	}
}

// TestKnowledgeWithoutModel: with no model configured the help centre still
// answers, and a question it cannot answer is met with "I don't know" and
// the offer of a person.
func TestKnowledgeWithoutModel(t *testing.T) {
	redisAddr := redistest.Start(t)
	bin := buildServer(t)
	srv := startServer(t, bin, "REDIS_URL=redis://"+redisAddr+"/0", "SIGNOFF_LLM_MODEL=")
	status, open := sendWebhook(t, srv.url, "msg_kn_1", opening("KN-1"))
	if status != 202 {
		t.Fatalf("opening webhook: %d %v", status, open)
	}
	sid, token := open["session_id"].(string), open["recipient_token"].(string)
	texts := replyTexts(chat(t, srv.url, sid, token, "包裹破损怎么办"))
	if len(texts) < 2 || !strings.Contains(texts[0], "破损") || !strings.Contains(texts[0], "签收") {
		t.Errorf("damage question: %q, want the damaged-parcel passage", texts)
	}
	r := chat(t, srv.url, sid, token, "帮我写一首关于春天的诗")
	texts = replyTexts(r)
	if len(texts) != 1 || !strings.Contains(texts[0], "回复0转人工") || r["outcome"] != nil {
		t.Errorf("unanswerable: %v, want the offer of a person", r)
	}
}
