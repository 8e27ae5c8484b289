package certs

import (
	"context"
	"log/slog"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// slogCore hands certmagic's zap log entries to the engine's slog logger,
// from warnings up: its informational lines narrate every lock and lookup,
// while what matters (obtained, renewed, failed) is logged by the Manager.
type slogCore struct {
	logger *slog.Logger
	fields []zapcore.Field
}

func zapLogger(logger *slog.Logger) *zap.Logger {
	return zap.New(&slogCore{logger: logger.With("component", "certificates")})
}

func (c *slogCore) Enabled(level zapcore.Level) bool { return level >= zapcore.WarnLevel }

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	return &slogCore{logger: c.logger, fields: append(append([]zapcore.Field(nil), c.fields...), fields...)}
}

func (c *slogCore) Check(entry zapcore.Entry, checked *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(entry.Level) {
		return checked.AddCore(entry, c)
	}
	return checked
}

func (c *slogCore) Write(entry zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range append(append([]zapcore.Field(nil), c.fields...), fields...) {
		f.AddTo(enc)
	}
	attrs := make([]any, 0, 2*len(enc.Fields)+2)
	if entry.LoggerName != "" {
		attrs = append(attrs, "logger", entry.LoggerName)
	}
	for k, v := range enc.Fields {
		attrs = append(attrs, k, v)
	}
	level := slog.LevelWarn
	if entry.Level >= zapcore.ErrorLevel {
		level = slog.LevelError
	}
	c.logger.Log(context.Background(), level, entry.Message, attrs...)
	return nil
}

func (c *slogCore) Sync() error { return nil }
