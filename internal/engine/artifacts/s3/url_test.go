package s3

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for raw, want := range map[string]Config{
		"s3://artifacts": {Bucket: "artifacts"},
		"s3://my.bucket-1/ferry/prod/?region=eu-west-1": {
			Bucket: "my.bucket-1", Prefix: "ferry/prod", Region: "eu-west-1",
		},
		"s3://AKIDEXAMPLE:s3cr%2Ft@b12/p?endpoint=http://127.0.0.1:7070/&region=us-east-1": {
			Bucket: "b12", Prefix: "p", Endpoint: "http://127.0.0.1:7070", Region: "us-east-1",
			AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "s3cr/t",
		},
		"s3://b12?endpoint=https%3A%2F%2Fs3.example.com%2Fbase": {Bucket: "b12", Endpoint: "https://s3.example.com/base"},
	} {
		got, err := ParseURL(raw)
		if err != nil {
			t.Errorf("%s: %v", raw, err)
		} else if got != want {
			t.Errorf("%s: %+v, want %+v", raw, got, want)
		}
	}
}

// Bad URLs are refused with a message that says what is wrong, and never
// repeats the secret.
func TestParseURLRefuses(t *testing.T) {
	const secret = "hunter2secret"
	for raw, wantInMessage := range map[string]string{
		"":                            "scheme",
		"artifacts":                   "scheme",
		"http://bucket/p":             `scheme "http" is not s3`,
		"s3:bucket":                   "names no bucket",
		"s3:///prefix":                "names no bucket",
		"s3://Bucket_Name":            "not a bucket name",
		"s3://ab":                     "not a bucket name",
		"s3://bucket:9000/p":          "not a bucket name",
		"s3://bucket/a//b":            "empty path segment",
		"s3://bucket#x":               "fragment",
		"s3://key@bucket":             "both the access key id and the secret",
		"s3://:" + secret + "@bucket": "both the access key id and the secret",
		"s3://k:" + secret + "@bucket?endpoint=127.0.0.1:7070":           "not an http:// or https:// URL",
		"s3://k:" + secret + "@bucket?endpoint=ftp://host":               "not an http:// or https:// URL",
		"s3://k:" + secret + "@bucket?endpoint=http://u:pw@host":         "carries credentials",
		"s3://k:" + secret + "@bucket?endpoint=http://host/?x=1":         "query or fragment",
		"s3://k:" + secret + "@bucket?region=":                           "region is empty",
		"s3://k:" + secret + "@bucket?region=a&region=b":                 "given 2 times",
		"s3://k:" + secret + "@bucket?regoin=us-east-1":                  `unknown parameter "regoin"`,
		"s3://k:" + secret + "@bucket?endpoint=%zz":                      "bad query",
		"s3://k:" + secret + "@bucket/p\x7f":                             "",
		"s3://k:" + secret + "@bucket?endpoint=http://x:" + secret + "@": "",
	} {
		_, err := ParseURL(raw)
		if err == nil {
			t.Errorf("%q: accepted", raw)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, wantInMessage) {
			t.Errorf("%q: %s; want it to say %q", raw, msg, wantInMessage)
		}
		if strings.Contains(msg, secret) {
			t.Errorf("%q: the message shows the secret: %s", raw, msg)
		}
	}
}

func TestConfigStringHidesTheSecret(t *testing.T) {
	cfg, err := ParseURL("s3://AKID:topsecret@bucket/p?region=us-east-1&endpoint=http://127.0.0.1:7070")
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.String()
	if want := "s3://AKID:xxxxx@bucket/p?endpoint=http%3A%2F%2F127.0.0.1%3A7070&region=us-east-1"; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	// What String gives reads back as the same store.
	back, err := ParseURL(strings.Replace(got, "xxxxx", "topsecret", 1))
	if err != nil || back != cfg {
		t.Errorf("String() does not read back: %+v, %v", back, err)
	}
}
