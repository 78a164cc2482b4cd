package api

import (
	"fmt"
	"sort"
	"strings"

	"github.com/setpoint-dev/setpoint/store"
)

// The methods of the generated LabelSelector: conversion to the text
// syntax and to a store.Selector, and matching. An empty selector matches
// everything; a nil one matches nothing (workload selectors are required).

// ErrSelector is wrapped by LabelSelector conversion errors; it also wraps
// store.ErrInvalid.
var ErrSelector = fmt.Errorf("%w: label selector", store.ErrInvalid)

// SelectorString converts the selector to the text syntax store selectors
// parse ("a=b,c in (x,y),!d"), with requirements in a canonical order (match
// labels by key, then expressions in order). A nil selector gives an error
// (it would match nothing, which text cannot express); an empty one gives "".
func (s *LabelSelector) SelectorString() (string, error) {
	if s == nil {
		return "", fmt.Errorf("%w: nil selector matches nothing", ErrSelector)
	}
	var parts []string
	keys := make([]string, 0, len(s.MatchLabels))
	for k := range s.MatchLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+s.MatchLabels[k])
	}
	for i, r := range s.MatchExpressions {
		if r.Key == "" {
			return "", fmt.Errorf("%w: matchExpressions[%d].key: required", ErrSelector, i)
		}
		switch r.Operator {
		case LabelSelectorOpIn, LabelSelectorOpNotIn:
			if len(r.Values) == 0 {
				return "", fmt.Errorf("%w: matchExpressions[%d].values: must be non-empty for %s", ErrSelector, i, r.Operator)
			}
			vals := append([]string(nil), r.Values...)
			sort.Strings(vals)
			op := " in "
			if r.Operator == LabelSelectorOpNotIn {
				op = " notin "
			}
			parts = append(parts, r.Key+op+"("+strings.Join(vals, ",")+")")
		case LabelSelectorOpExists, LabelSelectorOpDoesNotExist:
			if len(r.Values) != 0 {
				return "", fmt.Errorf("%w: matchExpressions[%d].values: must be empty for %s", ErrSelector, i, r.Operator)
			}
			if r.Operator == LabelSelectorOpExists {
				parts = append(parts, r.Key)
			} else {
				parts = append(parts, "!"+r.Key)
			}
		default:
			return "", fmt.Errorf("%w: matchExpressions[%d].operator: %q is not one of In, NotIn, Exists, DoesNotExist", ErrSelector, i, r.Operator)
		}
	}
	return strings.Join(parts, ","), nil
}

// Selector converts the selector to a store.Selector (for
// store.ListOptions and WatchOptions). Errors wrap ErrSelector (and so
// store.ErrInvalid) and name the problem.
func (s *LabelSelector) Selector() (store.Selector, error) {
	text, err := s.SelectorString()
	if err != nil {
		return store.Selector{}, err
	}
	sel, err := store.ParseSelector(text)
	if err != nil {
		return store.Selector{}, fmt.Errorf("%w: %v", ErrSelector, err)
	}
	return sel, nil
}

// Matches reports whether labels satisfy the selector. A nil selector
// matches nothing; an invalid operator matches nothing.
func (s *LabelSelector) Matches(labels map[string]string) bool {
	if s == nil {
		return false
	}
	for k, v := range s.MatchLabels {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	for _, r := range s.MatchExpressions {
		v, ok := labels[r.Key]
		switch r.Operator {
		case LabelSelectorOpIn:
			if !ok || !contains(r.Values, v) {
				return false
			}
		case LabelSelectorOpNotIn:
			if ok && contains(r.Values, v) {
				return false
			}
		case LabelSelectorOpExists:
			if !ok {
				return false
			}
		case LabelSelectorOpDoesNotExist:
			if ok {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
