package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/knowledge"
	"github.com/signoff/signoff/knowledge/llm"
)

// knowledgeOptions builds the help centre's answerer and, when
// SIGNOFF_LLM_MODEL names one, the language model, and returns them as
// engine options. SIGNOFF_KNOWLEDGE_DIR/<locale>/*.md add to or replace the
// embedded documents; SIGHUP reads them again, keeping the old index when a
// file is bad. The reload goroutine ends with ctx. observe, when not nil,
// is called around each model call (the metrics' Model).
func knowledgeOptions(ctx context.Context, getenv func(string) string, log *slog.Logger,
	observe func(context.Context, string) (context.Context, func(error))) ([]dialog.EngineOption, error) {
	var opts []knowledge.Option
	dir := getenv("SIGNOFF_KNOWLEDGE_DIR")
	if dir != "" {
		opts = append(opts, knowledge.WithDir(dir))
	}
	cfg, withModel, err := llm.FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	var model *llm.Client
	cfg.Observe = observe
	if withModel {
		if model, err = llm.New(cfg, log); err != nil {
			return nil, err
		}
		opts = append(opts, knowledge.WithPhraser(model, model.Model()))
		log.Info("language model", "model", cfg.Model, "base_url", maskURL(cfg.BaseURL), "timeout", cfg.Timeout.String())
	} else {
		log.Info("no language model (SIGNOFF_LLM_MODEL is not set): the rules and the help centre answer alone")
	}
	answerer, err := knowledge.NewAnswerer(opts...)
	if err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	for _, l := range knowledge.Locales {
		log.Info("knowledge indexed", "locale", string(l), "documents", answerer.Index(l).Documents(), "dir", dir)
	}
	if dir != "" {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		go func() {
			defer signal.Stop(hup)
			for {
				select {
				case <-ctx.Done():
					return
				case <-hup:
				}
				if err := answerer.Reload(); err != nil {
					log.Error("knowledge reload failed; the old index stays", "err", err)
					continue
				}
				for _, l := range knowledge.Locales {
					log.Info("knowledge reloaded", "locale", string(l), "documents", answerer.Index(l).Documents())
				}
			}
		}()
	}
	eo := []dialog.EngineOption{dialog.WithAnswerer(answerer)}
	if model != nil {
		eo = append(eo, dialog.WithUnderstander(model))
	}
	return eo, nil
}
