// Command k8s-schemas turns Kubernetes' OpenAPI v2 spec (api/openapi-spec/swagger.json of the
// k8s.io/kubernetes module) and CustomResourceDefinitions in JSON (the Prometheus Operator's
// ServiceMonitor and PrometheusRule) into one standalone, strict JSON schema per kind, in the
// layout that kubeconform reads: <out>/<kind>-<group>-<version>.json ("deployment-apps-v1.json",
// "service-v1.json", "servicemonitor-monitoring-v1.json").
//
//   - standalone: every "$ref" is inlined, so each file validates on its own;
//   - strict: objects with declared properties get "additionalProperties": false, so a
//     misspelled or misplaced field fails validation instead of being dropped by the API server;
//   - int-or-string fields accept both, and resource quantities accept strings and numbers, as
//     the API server does.
//
// Usage: go run . OUT_DIR SWAGGER_OR_CRD_JSON...
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type schema = map[string]any

const quantityRef = "io.k8s.apimachinery.pkg.api.resource.Quantity"

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: k8s-schemas OUT_DIR SWAGGER_OR_CRD_JSON...")
		os.Exit(2)
	}
	outDir := os.Args[1]
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "k8s-schemas:", err)
		os.Exit(1)
	}
	for _, input := range os.Args[2:] {
		if err := convert(input, outDir); err != nil {
			fmt.Fprintln(os.Stderr, "k8s-schemas:", err)
			os.Exit(1)
		}
	}
}

func convert(path, outDir string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc schema
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if doc["kind"] == "CustomResourceDefinition" {
		return convertCRD(path, doc, outDir)
	}
	return convertSwagger(path, raw, outDir)
}

// kindFile is the file kubeconform looks for: deployment-apps-v1.json, service-v1.json.
func kindFile(outDir, group, version, kind string) (string, string) {
	apiVersion := version
	suffix := "-" + strings.ToLower(version)
	if group != "" {
		apiVersion = group + "/" + version
		suffix = "-" + strings.ToLower(strings.Split(group, ".")[0]) + suffix
	}
	return filepath.Join(outDir, strings.ToLower(kind)+suffix+".json"), apiVersion
}

func write(file string, s schema, apiVersion, kind string) error {
	if props, _ := s["properties"].(schema); props != nil {
		props["apiVersion"] = schema{"type": "string", "enum": []any{apiVersion}}
		props["kind"] = schema{"type": "string", "enum": []any{kind}}
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, data, 0o644)
}

// convertCRD writes the schema of every served version of a CustomResourceDefinition.
func convertCRD(path string, crd schema, outDir string) error {
	spec, _ := crd["spec"].(schema)
	group, _ := spec["group"].(string)
	names, _ := spec["names"].(schema)
	kind, _ := names["kind"].(string)
	versions, _ := spec["versions"].([]any)
	written := 0
	for _, v := range versions {
		ver, _ := v.(schema)
		name, _ := ver["name"].(string)
		validation, _ := ver["schema"].(schema)
		open, _ := validation["openAPIV3Schema"].(schema)
		if kind == "" || name == "" || open == nil {
			continue
		}
		file, apiVersion := kindFile(outDir, group, name, kind)
		if err := write(file, expand(open, nil, map[string]bool{}), apiVersion, kind); err != nil {
			return err
		}
		written++
	}
	if written == 0 {
		return fmt.Errorf("%s: no version with an openAPIV3Schema", path)
	}
	fmt.Fprintf(os.Stderr, "k8s-schemas: wrote %d schemas for %s to %s\n", written, kind, outDir)
	return nil
}

func convertSwagger(specPath string, raw []byte, outDir string) error {
	var spec struct {
		Definitions map[string]schema `json:"definitions"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", specPath, err)
	}
	if len(spec.Definitions) == 0 {
		return fmt.Errorf("%s: neither a CustomResourceDefinition nor an OpenAPI spec with definitions", specPath)
	}
	names := make([]string, 0, len(spec.Definitions))
	for name := range spec.Definitions {
		names = append(names, name)
	}
	sort.Strings(names)
	written := 0
	for _, name := range names {
		def := spec.Definitions[name]
		gvks, _ := def["x-kubernetes-group-version-kind"].([]any)
		for _, g := range gvks {
			gvk, _ := g.(map[string]any)
			group, _ := gvk["group"].(string)
			version, _ := gvk["version"].(string)
			kind, _ := gvk["kind"].(string)
			if kind == "" || version == "" {
				continue
			}
			file, apiVersion := kindFile(outDir, group, version, kind)
			out := expand(def, spec.Definitions, map[string]bool{name: true})
			if err := write(file, out, apiVersion, kind); err != nil {
				return err
			}
			written++
		}
	}
	if written == 0 {
		return fmt.Errorf("%s: no definition carries x-kubernetes-group-version-kind", specPath)
	}
	fmt.Fprintf(os.Stderr, "k8s-schemas: wrote %d schemas to %s\n", written, outDir)
	return nil
}

// expand returns a copy of s with references inlined. A reference back to a definition being
// expanded (the recursive JSONSchemaProps of CustomResourceDefinition) becomes an open schema.
func expand(s schema, defs map[string]schema, active map[string]bool) schema {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/definitions/")
		if name == quantityRef {
			return schema{"oneOf": []any{schema{"type": "string"}, schema{"type": "number"}}}
		}
		target, found := defs[name]
		if !found || active[name] {
			return schema{}
		}
		active[name] = true
		defer delete(active, name)
		out := expand(target, defs, active)
		if d, ok := s["description"]; ok {
			out["description"] = d
		}
		return out
	}
	out := schema{}
	for k, v := range s {
		switch k {
		case "x-kubernetes-group-version-kind":
			continue
		case "properties":
			props := schema{}
			for pk, pv := range v.(map[string]any) {
				props[pk] = expand(pv.(map[string]any), defs, active)
			}
			out[k] = props
		case "items":
			if m, ok := v.(map[string]any); ok {
				out[k] = expand(m, defs, active)
			} else {
				out[k] = v
			}
		case "additionalProperties":
			if m, ok := v.(map[string]any); ok {
				out[k] = expand(m, defs, active)
			} else {
				out[k] = v
			}
		case "allOf", "anyOf", "oneOf":
			list := []any{}
			for _, item := range v.([]any) {
				list = append(list, expand(item.(map[string]any), defs, active))
			}
			out[k] = list
		default:
			out[k] = v
		}
	}
	if out["format"] == "int-or-string" || out["x-kubernetes-int-or-string"] == true {
		delete(out, "type")
		delete(out, "format")
		out["oneOf"] = []any{schema{"type": "string"}, schema{"type": "integer"}}
	}
	if _, hasProps := out["properties"]; hasProps && out["x-kubernetes-preserve-unknown-fields"] != true {
		if _, set := out["additionalProperties"]; !set {
			out["additionalProperties"] = false
		}
	}
	return out
}
