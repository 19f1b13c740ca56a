package main

import (
	"time"

	"github.com/deepreview/deep-review/review/llm"
	"github.com/deepreview/deep-review/review/llm/providers"
)

// live makes a live provider model for spec with key.
func (f modelFactory) live(spec llm.Spec, key string) (llm.Model, error) {
	return providers.New(spec, providers.Options{
		APIKey:         key,
		BaseURL:        f.settings.BaseURLs[spec.Provider],
		HTTPClient:     f.http,
		RequestTimeout: 10 * time.Minute,
	})
}
