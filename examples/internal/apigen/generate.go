package apigen

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Generate returns the generated files, by path relative to the output
// root. The output depends only on its inputs.
func Generate(facts *Facts, d Descriptions, cfg Config) (map[string][]byte, error) {
	m, err := NewModel(facts, cfg)
	if err != nil {
		return nil, err
	}
	if err := m.describe(d); err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	addRaw := func(rel string, f *file) error {
		src, err := f.docSource()
		if err != nil {
			return err
		}
		out[rel] = src
		return nil
	}
	add := func(rel string, f *file) error {
		src, err := f.source()
		if err != nil {
			return err
		}
		out[rel] = src
		return nil
	}
	// constants of aliased types join the type they alias
	aliasConsts := map[string][]*FactConst{}
	for _, ft := range facts.Types {
		if to, ok := aliases[ft.QName()]; ok {
			aliasConsts[to] = append(aliasConsts[to], ft.Consts...)
		}
	}
	for _, p := range m.Packages {
		types := m.newFile(p.Name, p.ImportPath)
		proto := m.newFile(p.Name, p.ImportPath)
		done := map[string]string{}
		for _, t := range p.Types {
			if err := types.emitType(t); err != nil {
				return nil, err
			}
			if err := types.emitConsts(t, done); err != nil {
				return nil, err
			}
			if extra := aliasConsts[t.F.QName()]; len(extra) > 0 {
				alias := *t
				alias.F = &FactType{Pkg: t.F.Pkg, Name: t.F.Name, Consts: extra}
				if err := types.emitConsts(&alias, done); err != nil {
					return nil, err
				}
			}
			if t.Message {
				if err := proto.emitMessageMethods(t); err != nil {
					return nil, err
				}
			}
		}
		// package api's doc.go is hand-written: the package also holds
		// hand-written types and helpers (Quantity, label selector
		// methods, Status, the resources it is served as)
		if p.Name != "api" {
			doc := m.newFile(p.Name, p.ImportPath)
			doc.emitDoc(p, m.groupVersions(p, facts))
			if err := addRaw(filepath.Join(p.Dir, "zz_generated.doc.go"), doc); err != nil {
				return nil, err
			}
		}
		if t := exampleKind(p); t != nil {
			ex := m.newFile(p.Name+"_test", p.ImportPath+"_test")
			ex.emitExample(p, t)
			if err := add(filepath.Join(p.Dir, "zz_generated.example_test.go"), ex); err != nil {
				return nil, err
			}
		}
		if err := add(filepath.Join(p.Dir, "zz_generated.types.go"), types); err != nil {
			return nil, err
		}
		if err := add(filepath.Join(p.Dir, "zz_generated.proto.go"), proto); err != nil {
			return nil, err
		}
	}
	// the OpenAPI document, next to package api
	doc, err := m.openAPI()
	if err != nil {
		return nil, err
	}
	if m.apiPackage() != nil {
		out[filepath.Join("api", "zz_generated.openapi.json")] = doc
		acc := m.newFile("api", cfg.ImportPath+"/api")
		acc.emitOpenAPIAccessor("zz_generated.openapi.json")
		if err := add(filepath.Join("api", "zz_generated.openapi.go"), acc); err != nil {
			return nil, err
		}
	}
	// codecs of the library structs
	meta := m.newFile("metapb", cfg.ImportPath+"/api/internal/metapb")
	var libs []*Type
	for _, t := range m.types {
		if t.Ext != nil && t.Ext.codec == codecStruct {
			libs = append(libs, t)
		}
	}
	sort.Slice(libs, func(i, j int) bool { return libs[i].Ext.name < libs[j].Ext.name })
	if len(libs) == 0 {
		return out, nil
	}
	meta.header = "// Package metapb holds the protobuf codecs of the library's metadata\n// types (store.ObjectMeta and the types it holds), which the library itself\n// leaves free of protobuf. The codecs are functions rather than methods\n// because the types belong to another package; they follow the contract\n// of the generated API packages.\n"
	metaEx := m.newFile("metapb_test", meta.importPath+"_test")
	metaEx.emitMetaExample(meta.importPath)
	if err := add(filepath.Join("api", "internal", "metapb", "zz_generated.example_test.go"), metaEx); err != nil {
		return nil, err
	}
	for _, t := range libs {
		if err := meta.emitLibraryCodec(t); err != nil {
			return nil, err
		}
	}
	if err := add(filepath.Join("api", "internal", "metapb", "zz_generated.metapb.go"), meta); err != nil {
		return nil, err
	}
	return out, nil
}

// generatedName says a file in the output tree is one Generate writes.
func generatedName(name string) bool { return strings.HasPrefix(name, "zz_generated.") }

// Write writes files under root and removes generated files under root/api
// that files no longer holds (only there: root is the parent of the api
// tree, which may hold other packages).
func Write(root string, files map[string][]byte) error {
	err := filepath.WalkDir(filepath.Join(root, "api"), func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() || !generatedName(de.Name()) {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if _, ok := files[rel]; !ok {
			return os.Remove(p)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(root, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if cur, err := os.ReadFile(p); err == nil && string(cur) == string(files[n]) {
			continue
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			return fmt.Errorf("apigen: %w", err)
		}
	}
	return nil
}
