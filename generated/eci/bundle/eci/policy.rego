package eci

import data.eci._any_deny
import data.eci.allow
import data.eci.deny
import data.eci.violations
import data.eci.warn

import rego.v1

_format(v) := sprintf("%s %s %s/%s %s: %s (%s)", [v.rule, v.action, v.kind, v.name, v.path, v.message, _format_facts(v)])

_format_facts(v) := sprintf("container %s of %s; value %s", [json.marshal(v.container), v.list, _format_value(v.value)]) if {
	v.list
} else := sprintf("value %s", [_format_value(v.value)])

_format_value(x) := s if {
	s := json.marshal(x)
	count(s) <= 200
} else := concat("", [substring(json.marshal(x), 0, 199), "…"])

_admission_review if {
	is_object(input)
	input.kind == "AdmissionReview"
}

_gatekeeper_review if {
	is_object(input)
	not _admission_review
	object.get(input, "kind", null) == null
	is_object(input.review)
}

_doc := object.get(input, ["request", "object"], null) if _admission_review

_doc := object.get(input, ["review", "object"], null) if _gatekeeper_review

_doc := input if {
	not _admission_review
	not _gatekeeper_review
}

_doc_readable if _doc != null

_kind := k if {
	k := object.get(_doc, "kind", null)
	is_string(k)
} else := ""

_template_prefix := [] if _kind == "Pod"

_template_prefix := ["spec", "template"] if _kind in {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController"}

_template_prefix := ["spec", "jobTemplate", "spec", "template"] if _kind == "CronJob"

_known_kind if _template_prefix

_meta_path := array.concat(_template_prefix, ["metadata"])

_spec_path := array.concat(_template_prefix, ["spec"])

_meta := _get(_doc, _meta_path)

_pod := _get(_doc, _spec_path)

_labels := l if {
	l := _get(_meta, ["labels"])
	is_object(l)
} else := {}

_annotations := a if {
	a := _get(_meta, ["annotations"])
	is_object(a)
} else := {}

_name := n if {
	n := _get(_doc, ["metadata", "name"])
	is_string(n)
} else := ""

_namespace := ns if {
	ns := _get(_doc, ["metadata", "namespace"])
	is_string(ns)
} else := ns if {
	_admission_review
	ns := object.get(input, ["request", "namespace"], null)
	is_string(ns)
} else := ""

_params := p if {
	p := data.eci.params
	is_object(p)
} else := {}

_param_list(name) := l if {
	l := object.get(_params, name, [])
	is_array(l)
} else := []

_namespace_approved(name) if {
	approved := object.get(_params, name, false)
	is_array(approved)
	_namespace != ""
	_namespace in approved
}

_in_scope if {
	_known_kind
	selector := object.get(_params, ["selector", "matchLabels"], {})
	is_object(selector)
	every key, value in selector {
		_labels[key] == value
	}
}

_rule_defaults := {
	"ECI-POD-001": "deny",
	"ECI-POD-002": "deny",
	"ECI-POD-003": "deny",
	"ECI-POD-004": "warn",
	"ECI-CTR-001": "deny",
	"ECI-CTR-002": "deny",
	"ECI-CTR-003": "deny",
	"ECI-CTR-004": "warn",
	"ECI-CTR-005": "deny",
	"ECI-CTR-006": "deny",
	"ECI-CTR-007": "warn",
	"ECI-CTR-008": "warn",
}

_rule_action(id) := a if {
	a := object.get(_params, ["actions", id], null)
	a in {"deny", "warn"}
} else := _rule_defaults[id]

_rules_off contains id if {
	actions := object.get(_params, "actions", {})
	is_object(actions)
	some id, a in actions
	a == "off"
}

_get(x, path) := object.get(x, path, null) if is_object(x)

_get(x, _) := null if not is_object(x)

_quantity_milli(s) := v if {
	is_string(s)
	regex.match("^[0-9]{1,15}(\\.[0-9]{1,3})?(Ki|Mi|Gi|Ti|k|M|G|T)?$", s)
	m := regex.find_all_string_submatch_n(`^([0-9]+)(\.([0-9]+))?([A-Za-z]*)$`, s, 1)
	parts := m[0]
	frac := substring(concat("", [parts[3], "000"]), 0, 3)
	v := ((to_number(parts[1]) * 1000) + to_number(frac)) * _quantity_multiplier[parts[4]]
	v <= 70368744177664000
}

_quantity_multiplier := {
	"": 1,
	"k": 1000,
	"M": 1000000,
	"G": 1000000000,
	"T": 1000000000000,
	"Ki": 1024,
	"Mi": 1048576,
	"Gi": 1073741824,
	"Ti": 1099511627776,
}

_container_lists := ["containers", "initContainers", "ephemeralContainers"]

_lists[list] := cs if {
	_in_scope
	some list in _container_lists
	cs := _pod[list]
	is_array(cs)
}

_violation(rule, action, segs, value, message) := {
	"rule": rule, "action": action, "kind": _kind, "namespace": _namespace, "name": _name,
	"path": _path_string(segs), "value": value, "message": message,
}

_spec_str := _path_string(_spec_path)

_meta_str := _path_string(_meta_path)

_key_seg(key) := concat("", [".", key]) if {
	_plain_key(key)
} else := concat("", ["[", json.marshal(key), "]"])

_path_string(segs) := concat("", [s | some i, seg in segs; s := _path_segment(i, seg)])

_path_segment(_, seg) := concat("", ["[", format_int(seg, 10), "]"]) if is_number(seg)

_path_segment(0, seg) := seg if _plain_key(seg)

_path_segment(i, seg) := concat("", [".", seg]) if {
	i > 0
	_plain_key(seg)
}

_path_segment(_, seg) := concat("", ["[", json.marshal(seg), "]"]) if {
	is_string(seg)
	not _plain_key(seg)
}

_plain_key(seg) if {
	is_string(seg)
	regex.match("^[A-Za-z_][A-Za-z0-9_]*$", seg)
}

_eff_1(c) if {
	x := c.securityContext
	x != null
	not is_object(x)
}

_eff_2 if {
	x := _pod.securityContext
	x != null
	not is_object(x)
}

_eff_3(c) := v if {
	v := c.securityContext.runAsUser
	v != null
} else := v if {
	not _eff_1(c)
	v := _pod.securityContext.runAsUser
	v != null
}

_eff_4(c) if {
	c.securityContext.runAsUser != null
}

_eff_5 if {
	_pod.securityContext.runAsUser != null
}

_eff_6(c) if {
	not _eff_4(c)
	not _eff_1(c)
	not _eff_5
	not _eff_2
}

_eff_7(c, ln, ci) := v if {
	_eff_4(c)
	v := concat("", [_spec_str, ".", ln, "[", format_int(ci, 10), "].securityContext.runAsUser"])
} else := v if {
	v := concat("", [_spec_str, ".securityContext.runAsUser"])
}

_eff_8(c) := v if {
	v := c.securityContext.runAsNonRoot
	v != null
} else := v if {
	not _eff_1(c)
	v := _pod.securityContext.runAsNonRoot
	v != null
}

_eff_9(c) if {
	c.securityContext.runAsNonRoot != null
}

_eff_10 if {
	_pod.securityContext.runAsNonRoot != null
}

_eff_11(c) if {
	not _eff_9(c)
	not _eff_1(c)
	not _eff_10
	not _eff_2
}

_eff_12(c, ln, ci) := v if {
	_eff_9(c)
	v := concat("", [_spec_str, ".", ln, "[", format_int(ci, 10), "].securityContext.runAsNonRoot"])
} else := v if {
	v := concat("", [_spec_str, ".securityContext.runAsNonRoot"])
}

_cond_1(item) if {
	x := item
	is_array(x)
}

_cond_2(item) if {
	not _cond_1(item)
}

_cond_3(item) if {
	x := item
	is_object(x)
}

_cond_4(item) if {
	not _cond_3(item)
}

_cond_5(item) if {
	x := item.name
	is_string(x)
}

_cond_6(item) if {
	not _cond_5(item)
}

_cond_7(item) if {
	item.value != null
}

_cond_8(item) if {
	x := item.value
	is_string(x)
}

_cond_9(item) if {
	not _cond_8(item)
}

_cond_10(item) if {
	x := item.name
	is_string(x)
	s := replace(x, "/", ".")
	s == "vm.min_free_kbytes"
}

_cond_11(item) if {
	_cond_3(item)
	_cond_10(item)
}

_cond_12(item) if {
	not _cond_11(item)
}

_cond_13(item) if {
	x := item.name
	is_string(x)
	regex.match("^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$", x)
}

_cond_14(item) if {
	x := item.name
	is_string(x)
	count(x) >= 254
	not contains(substring(x, 0, 254), "\n")
}

_cond_15(item) if {
	not _cond_14(item)
}

_cond_16(item) if {
	_cond_5(item)
	_cond_13(item)
	_cond_15(item)
}

_cond_17(item) if {
	not _cond_16(item)
}

_cond_18(item) if {
	x := item.name
	is_string(x)
	s := replace(x, "/", ".")
	startswith(s, "kernel.shm")
}

_cond_18(item) if {
	x := item.name
	is_string(x)
	s := replace(x, "/", ".")
	startswith(s, "kernel.msg")
}

_cond_18(item) if {
	x := item.name
	is_string(x)
	s := replace(x, "/", ".")
	s == "kernel.sem"
}

_cond_18(item) if {
	x := item.name
	is_string(x)
	s := replace(x, "/", ".")
	startswith(s, "fs.mqueue.")
}

_cond_18(item) if {
	x := item.name
	is_string(x)
	s := replace(x, "/", ".")
	startswith(s, "net.")
}

_cond_18(item) if {
	x := item.name
	is_string(x)
	s := replace(x, "/", ".")
	s == "vm.min_free_kbytes"
}

_cond_19(item) if {
	x := item.name
	is_string(x)
	s := replace(x, "/", ".")
	s == "net.ipv4.tcp_syncookies"
}

_cond_20(item) if {
	not _cond_19(item)
}

_cond_21(item) if {
	_cond_18(item)
	_cond_20(item)
}

_cond_22(item) if {
	not _cond_21(item)
}

_cond_23(item) if {
	x := item.value
	is_string(x)
	regex.match("^[0-9]+$", x)
}

_cond_24(item) if {
	not _cond_23(item)
}

_cond_25 if {
	list := _pod.securityContext.sysctls
	is_array(list)
	some el in list
	_cond_11(el)
}

_cond_26 if {
	is_number(_num_1)
}

_cond_27 if {
	not _cond_26
}

_cond_28 if {
	_cond_25
	_cond_27
}

_cond_29(item) if {
	is_number(_quantity_milli(item))
}

_cond_30(item) if {
	not _cond_29(item)
}

_cond_31(c) if {
	c.resources.limits.memory != null
}

_cond_32(c) if {
	not _cond_31(c)
}

_cond_33 if {
	is_number(_num_4)
}

_cond_34(item) if {
	l := _num_5(item)
	r := _num_4
	l * 5120 <= r * 1
}

_cond_35(item) if {
	not _cond_34(item)
}

_cond_36(item) if {
	item.resources.limits.memory != null
}

_cond_37(item) if {
	_cond_3(item)
	_cond_36(item)
}

_cond_38 if {
	list := _pod.containers
	is_array(list)
	some el in list
	_cond_37(el)
}

_cond_39 if {
	not _cond_38
}

_cond_40(item) if {
	item.resources.requests.memory != null
}

_cond_41(item) if {
	_cond_3(item)
	_cond_40(item)
}

_cond_42 if {
	list := _pod.containers
	is_array(list)
	some el in list
	_cond_41(el)
}

_cond_43 if {
	not _cond_42
}

_cond_44(item) if {
	x := item
	is_string(x)
	regex.match("^[ \\t\\n\\r]*\\[[ \\t\\n\\r]*(?:\\{[ \\t\\n\\r]*(?:\"name\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"[ \\t\\n\\r]*,[ \\t\\n\\r]*\"value\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"|\"value\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"[ \\t\\n\\r]*,[ \\t\\n\\r]*\"name\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\")[ \\t\\n\\r]*\\}(?:[ \\t\\n\\r]*,[ \\t\\n\\r]*\\{[ \\t\\n\\r]*(?:\"name\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"[ \\t\\n\\r]*,[ \\t\\n\\r]*\"value\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"|\"value\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"[ \\t\\n\\r]*,[ \\t\\n\\r]*\"name\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\")[ \\t\\n\\r]*\\})*)?[ \\t\\n\\r]*\\][ \\t\\n\\r]*$", x)
}

_cond_45(item) if {
	not _cond_44(item)
}

_cond_46 if {
	x := _annotations["k8s.aliyun.com/eci-host-sysctls"]
	is_string(x)
	regex.match("^[ \\t\\n\\r]*\\[[ \\t\\n\\r]*(?:\\{[ \\t\\n\\r]*(?:\"name\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"[ \\t\\n\\r]*,[ \\t\\n\\r]*\"value\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"|\"value\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"[ \\t\\n\\r]*,[ \\t\\n\\r]*\"name\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\")[ \\t\\n\\r]*\\}(?:[ \\t\\n\\r]*,[ \\t\\n\\r]*\\{[ \\t\\n\\r]*(?:\"name\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"[ \\t\\n\\r]*,[ \\t\\n\\r]*\"value\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"|\"value\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"[ \\t\\n\\r]*,[ \\t\\n\\r]*\"name\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\")[ \\t\\n\\r]*\\})*)?[ \\t\\n\\r]*\\][ \\t\\n\\r]*$", x)
}

_cond_47(item) if {
	x := item
	is_string(x)
	s := replace(x, "/", ".")
	some y in _param_list("approvedHostSysctls")
	is_string(y)
	z := replace(y, "/", ".")
	z == s
}

_cond_48(item) if {
	not _cond_47(item)
}

_cond_49(item) if {
	item != null
}

_cond_50(item) if {
	x := item
	is_string(x)
}

_cond_51(item) if {
	not _cond_50(item)
}

_cond_52(item) if {
	x := item
	is_string(x)
	s := upper(x)
	startswith(s, "CAP_")
}

_cond_53(item) if {
	x := item
	is_string(x)
	s := upper(x)
	s in {"ALL"}
}

_cond_54(item) if {
	x := item
	is_string(x)
	s := upper(x)
	s in {"SYS_RAWIO"}
}

_cond_55 if {
	_namespace_approved("sysRawioApproved")
}

_cond_56 if {
	not _cond_55
}

_cond_57(item) if {
	x := item
	is_string(x)
	s := upper(x)
	s in {"ALL", "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT", "SYS_PTRACE", "SYS_RAWIO"}
}

_cond_58(item) if {
	not _cond_57(item)
}

_cond_59(item) if {
	not _cond_52(item)
}

_cond_60(item) if {
	x := item
	is_boolean(x)
}

_cond_61(item) if {
	not _cond_60(item)
}

_cond_62(item) if {
	item == true
}

_cond_63 if {
	_namespace_approved("privilegedApproved")
}

_cond_64 if {
	not _cond_63
}

_cond_65(item) if {
	x := item
	is_number(x)
	round(x) == x
	x >= 0
	x <= 0
}

_cond_66(c) if {
	_eff_8(c) == true
}

_cond_67(c) if {
	_eff_6(c)
}

_cond_68(item) if {
	x := item
	is_number(x)
	round(x) == x
	x >= -9223372036854775808
	x <= 9223372036854775807
}

_cond_69(item) if {
	not _cond_68(item)
}

_cond_70(item) if {
	x := item
	is_number(x)
	round(x) == x
	x >= 0
	x <= 2147483647
}

_cond_71(item) if {
	not _cond_70(item)
}

_cond_72(item) if {
	item == "Default"
}

_cond_73(item) if {
	not _cond_72(item)
}

_cond_74(item) if {
	item == false
}

_num_1 := v if {
	raw := _annotations["k8s.aliyun.com/eci-use-specs"]
	is_string(raw)
	regex.match("^[0-9]+(\\.[0-9]+)?-[0-9]+(\\.[0-9]+)?Gi$", raw)
	v := _quantity_milli(split(raw, "-")[1])
}

_num_2(item) := v if {
	v := item.resources.limits.memory
	v != null
} else := v if {
	v := item.resources.requests.memory
	v != null
}

_num_3 := v if {
	cs := _pod.containers
	is_array(cs)
	raws := [x | some ctr in cs; x := _num_2(ctr)]
	count(raws) > 0
	qs := [q | some x in raws; q := _quantity_milli(x)]
	count(qs) == count(raws)
	v := sum(qs)
}

_num_4 := v if {
	v := _num_1
} else := v if {
	v := _num_3
}

_num_5(item) := v if {
	x := item.value
	is_string(x)
	regex.match("^[0-9]{1,12}$", x)
	v := to_number(x) * 1000
}
