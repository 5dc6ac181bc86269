package eci

import data.eci._any_deny
import data.eci.allow
import data.eci.deny
import data.eci.violations
import data.eci.warn

import rego.v1

_format(v) := sprintf("%s %s %s/%s %s: %s", [v.rule, v.action, v.kind, v.name, v.path, v.message])

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

_rule_enabled(id) if object.get(_params, ["actions", id], null) != "off"

_get(x, path) := object.get(x, path, null) if is_object(x)

_get(x, _) := null if not is_object(x)

_has_type(x, "string") if is_string(x)

_has_type(x, "boolean") if is_boolean(x)

_has_type(x, "number") if is_number(x)

_has_type(x, "integer") if {
	is_number(x)
	round(x) == x
	x >= -9223372036854775808
	x <= 9223372036854775807
}

_has_type(x, "array") if is_array(x)

_has_type(x, "object") if is_object(x)

_t_string(x) := x if is_string(x)

_t_upper(x) := upper(x) if is_string(x)

_t_sysctl_name(x) := replace(x, "/", ".") if is_string(x)

_pattern_match(s, p) if {
	p.kind == "exact"
	s == p.value
}

_pattern_match(s, p) if {
	p.kind == "prefix"
	startswith(s, p.value)
}

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

_containers contains c if {
	_in_scope
	some list in _container_lists
	cs := _get(_pod, [list])
	is_array(cs)
	some i, spec in cs
	is_object(spec)
	c := {"list": list, "index": i, "name": object.get(spec, "name", ""), "spec": spec}
}

_effective(c, path) := {"value": v, "segs": array.concat([c.list, c.index, "securityContext"], path)} if {
	v := _get(c.spec, array.concat(["securityContext"], path))
	v != null
} else := {"value": v, "segs": array.concat(["securityContext"], path)} if {
	v := _get(_pod, array.concat(["securityContext"], path))
	v != null
}

_effective_value(c, path) := v if {
	v := _effective(c, path).value
} else := null

_violation(rule, action, c, segs, value, message) := object.union(
	{
		"rule": rule, "action": action, "kind": _kind, "namespace": _namespace, "name": _name,
		"path": _path_string(segs), "value": value, "message": message,
	},
	_container_facts(c),
)

_container_facts(c) := {} if c == null

_container_facts(c) := {"list": c.list, "container": c.name} if c != null

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
	regex.match(`^[A-Za-z_][A-Za-z0-9_]*$`, seg)
}

_cond_1(item, _) if {
	_has_type(item, "array")
}

_cond_2(item, c) if {
	not _cond_1(item, c)
}

_cond_3(item, _) if {
	_has_type(item, "object")
}

_cond_4(item, c) if {
	not _cond_3(item, c)
}

_cond_5(item, _) if {
	_has_type(_get(item, ["name"]), "string")
}

_cond_6(item, c) if {
	not _cond_5(item, c)
}

_cond_7(item, c) if {
	_cond_3(item, c)
	_cond_6(item, c)
}

_cond_8(item, _) if {
	_get(item, ["value"]) != null
}

_cond_9(item, _) if {
	_has_type(_get(item, ["value"]), "string")
}

_cond_10(item, c) if {
	not _cond_9(item, c)
}

_cond_11(item, _) if {
	s := _t_sysctl_name(_get(item, ["name"]))
	some p in [{"kind": "exact", "value": "vm.min_free_kbytes"}]
	_pattern_match(s, p)
}

_cond_12(item, c) if {
	_cond_3(item, c)
	_cond_11(item, c)
}

_cond_13(item, c) if {
	not _cond_12(item, c)
}

_cond_14(item, c) if {
	_cond_3(item, c)
	_cond_8(item, c)
	_cond_10(item, c)
	_cond_13(item, c)
}

_cond_15(item, _) if {
	x := _get(item, ["name"])
	is_string(x)
	regex.match("^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$", x)
}

_cond_16(item, _) if {
	x := _get(item, ["name"])
	is_string(x)
	regex.match("^.{254}", x)
}

_cond_17(item, c) if {
	not _cond_16(item, c)
}

_cond_18(item, c) if {
	_cond_5(item, c)
	_cond_15(item, c)
	_cond_17(item, c)
}

_cond_19(item, c) if {
	not _cond_18(item, c)
}

_cond_20(item, c) if {
	_cond_3(item, c)
	_cond_5(item, c)
	_cond_19(item, c)
}

_cond_21(item, _) if {
	s := _t_sysctl_name(_get(item, ["name"]))
	some p in [{"kind": "prefix", "value": "kernel.shm"}, {"kind": "prefix", "value": "kernel.msg"}, {"kind": "exact", "value": "kernel.sem"}, {"kind": "prefix", "value": "fs.mqueue."}, {"kind": "prefix", "value": "net."}, {"kind": "exact", "value": "vm.min_free_kbytes"}]
	_pattern_match(s, p)
}

_cond_22(item, _) if {
	s := _t_sysctl_name(_get(item, ["name"]))
	some p in [{"kind": "exact", "value": "net.ipv4.tcp_syncookies"}]
	_pattern_match(s, p)
}

_cond_23(item, c) if {
	not _cond_22(item, c)
}

_cond_24(item, c) if {
	_cond_21(item, c)
	_cond_23(item, c)
}

_cond_25(item, c) if {
	not _cond_24(item, c)
}

_cond_26(item, c) if {
	_cond_3(item, c)
	_cond_18(item, c)
	_cond_25(item, c)
}

_cond_27(item, _) if {
	x := _get(item, ["value"])
	is_string(x)
	regex.match("^[0-9]+$", x)
}

_cond_28(item, c) if {
	not _cond_27(item, c)
}

_cond_29(item, c) if {
	_cond_12(item, c)
	_cond_28(item, c)
}

_cond_30(_, c) if {
	list := _get(_pod, ["securityContext", "sysctls"])
	is_array(list)
	some el in list
	_cond_12(el, c)
}

_cond_31(item, c) if {
	is_number(_num_1(item, c))
}

_cond_32(item, c) if {
	not _cond_31(item, c)
}

_cond_33(item, c) if {
	_cond_30(item, c)
	_cond_32(item, c)
}

_cond_34(item, _) if {
	is_number(_quantity_milli(item))
}

_cond_35(item, c) if {
	not _cond_34(item, c)
}

_cond_36(item, c) if {
	_cond_33(item, c)
	_cond_35(item, c)
}

_cond_37(_, c) if {
	_get(c.spec, ["resources", "limits", "memory"]) == null
}

_cond_38(item, c) if {
	_cond_33(item, c)
	_cond_37(item, c)
	_cond_35(item, c)
}

_cond_39(item, c) if {
	is_number(_num_4(item, c))
}

_cond_40(item, c) if {
	l := _num_5(item, c)
	r := _num_4(item, c)
	l * 5120 <= r * 1
}

_cond_41(item, c) if {
	not _cond_40(item, c)
}

_cond_42(item, c) if {
	_cond_12(item, c)
	_cond_27(item, c)
	_cond_39(item, c)
	_cond_41(item, c)
}

_cond_43(item, _) if {
	_get(item, ["resources", "limits", "memory"]) != null
}

_cond_44(item, c) if {
	_cond_3(item, c)
	_cond_43(item, c)
}

_cond_45(_, c) if {
	list := _get(_pod, ["containers"])
	is_array(list)
	some el in list
	_cond_44(el, c)
}

_cond_46(item, c) if {
	not _cond_45(item, c)
}

_cond_47(item, _) if {
	_get(item, ["resources", "requests", "memory"]) != null
}

_cond_48(item, c) if {
	_cond_3(item, c)
	_cond_47(item, c)
}

_cond_49(_, c) if {
	list := _get(_pod, ["containers"])
	is_array(list)
	some el in list
	_cond_48(el, c)
}

_cond_50(item, c) if {
	not _cond_49(item, c)
}

_cond_51(item, c) if {
	_cond_12(item, c)
	_cond_27(item, c)
	_cond_32(item, c)
	_cond_46(item, c)
	_cond_50(item, c)
}

_cond_52(item, _) if {
	x := item
	is_string(x)
	regex.match("^[ \\t\\n\\r]*\\[[ \\t\\n\\r]*(?:\\{[ \\t\\n\\r]*(?:\"name\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"[ \\t\\n\\r]*,[ \\t\\n\\r]*\"value\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"|\"value\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"[ \\t\\n\\r]*,[ \\t\\n\\r]*\"name\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\")[ \\t\\n\\r]*\\}(?:[ \\t\\n\\r]*,[ \\t\\n\\r]*\\{[ \\t\\n\\r]*(?:\"name\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"[ \\t\\n\\r]*,[ \\t\\n\\r]*\"value\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"|\"value\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"[ \\t\\n\\r]*,[ \\t\\n\\r]*\"name\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\")[ \\t\\n\\r]*\\})*)?[ \\t\\n\\r]*\\][ \\t\\n\\r]*$", x)
}

_cond_53(item, c) if {
	not _cond_52(item, c)
}

_cond_54(_, _) if {
	x := _get(_annotations, ["k8s.aliyun.com/eci-host-sysctls"])
	is_string(x)
	regex.match("^[ \\t\\n\\r]*\\[[ \\t\\n\\r]*(?:\\{[ \\t\\n\\r]*(?:\"name\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"[ \\t\\n\\r]*,[ \\t\\n\\r]*\"value\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"|\"value\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"[ \\t\\n\\r]*,[ \\t\\n\\r]*\"name\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\")[ \\t\\n\\r]*\\}(?:[ \\t\\n\\r]*,[ \\t\\n\\r]*\\{[ \\t\\n\\r]*(?:\"name\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"[ \\t\\n\\r]*,[ \\t\\n\\r]*\"value\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"|\"value\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\"[ \\t\\n\\r]*,[ \\t\\n\\r]*\"name\"[ \\t\\n\\r]*:[ \\t\\n\\r]*\"[^\"\\\\\\x00-\\x1f]*\")[ \\t\\n\\r]*\\})*)?[ \\t\\n\\r]*\\][ \\t\\n\\r]*$", x)
}

_cond_55(item, _) if {
	x := _t_sysctl_name(item)
	some y in _param_list("approvedHostSysctls")
	_t_sysctl_name(y) == x
}

_cond_56(item, c) if {
	not _cond_55(item, c)
}

_cond_57(item, c) if {
	_cond_54(item, c)
	_cond_56(item, c)
}

_cond_58(item, _) if {
	item != null
}

_cond_59(item, _) if {
	_has_type(item, "string")
}

_cond_60(item, c) if {
	not _cond_59(item, c)
}

_cond_61(item, _) if {
	s := _t_upper(item)
	some p in [{"kind": "prefix", "value": "CAP_"}]
	_pattern_match(s, p)
}

_cond_62(item, c) if {
	_cond_59(item, c)
	_cond_61(item, c)
}

_cond_63(item, _) if {
	_t_upper(item) in {"ALL"}
}

_cond_64(item, c) if {
	_cond_59(item, c)
	_cond_63(item, c)
}

_cond_65(item, _) if {
	_t_upper(item) in {"SYS_RAWIO"}
}

_cond_66(_, _) if {
	_namespace_approved("sysRawioApproved")
}

_cond_67(item, c) if {
	not _cond_66(item, c)
}

_cond_68(item, c) if {
	_cond_59(item, c)
	_cond_65(item, c)
	_cond_67(item, c)
}

_cond_69(item, _) if {
	_t_upper(item) in {"ALL", "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT", "SYS_PTRACE", "SYS_RAWIO"}
}

_cond_70(item, c) if {
	not _cond_69(item, c)
}

_cond_71(item, c) if {
	not _cond_61(item, c)
}

_cond_72(item, c) if {
	_cond_59(item, c)
	_cond_70(item, c)
	_cond_71(item, c)
}

_cond_73(item, _) if {
	_has_type(item, "boolean")
}

_cond_74(item, c) if {
	not _cond_73(item, c)
}

_cond_75(item, _) if {
	x := item
	_has_type(x, "boolean")
	x == true
}

_cond_76(_, _) if {
	_namespace_approved("privilegedApproved")
}

_cond_77(item, c) if {
	not _cond_76(item, c)
}

_cond_78(item, c) if {
	_cond_75(item, c)
	_cond_77(item, c)
}

_cond_79(item, _) if {
	x := item
	_has_type(x, "integer")
	x >= 0
	x <= 0
}

_cond_80(_, c) if {
	x := _effective_value(c, ["runAsNonRoot"])
	_has_type(x, "boolean")
	x == true
}

_cond_81(item, c) if {
	_cond_79(item, c)
	_cond_80(item, c)
}

_cond_82(_, c) if {
	_effective_value(c, ["runAsUser"]) == null
}

_cond_83(item, c) if {
	_cond_75(item, c)
	_cond_82(item, c)
}

_cond_84(item, _) if {
	_has_type(item, "integer")
}

_cond_85(item, c) if {
	not _cond_84(item, c)
}

_cond_86(item, _) if {
	x := item
	_has_type(x, "integer")
	x >= 0
	x <= 2147483647
}

_cond_87(item, c) if {
	not _cond_86(item, c)
}

_cond_88(item, c) if {
	_cond_84(item, c)
	_cond_87(item, c)
}

_cond_89(item, _) if {
	x := item
	_has_type(x, "string")
	x == "Default"
}

_cond_90(item, c) if {
	not _cond_89(item, c)
}

_cond_91(item, c) if {
	_cond_59(item, c)
	_cond_90(item, c)
}

_cond_92(item, _) if {
	x := item
	_has_type(x, "boolean")
	x == false
}

_num_1(_, _) := v if {
	raw := _get(_annotations, ["k8s.aliyun.com/eci-use-specs"])
	is_string(raw)
	regex.match("^[0-9]+(\\.[0-9]+)?-[0-9]+(\\.[0-9]+)?Gi$", raw)
	v := _quantity_milli(split(raw, "-")[1])
}

_num_2(item, _) := v if {
	x := _get(item, ["resources", "limits", "memory"])
	x != null
	v := x
} else := v if {
	x := _get(item, ["resources", "requests", "memory"])
	x != null
	v := x
}

_num_3(_, c) := v if {
	cs := _get(_pod, ["containers"])
	is_array(cs)
	raws := [x | some ctr in cs; x := _num_2(ctr, c)]
	count(raws) > 0
	qs := [q | some x in raws; q := _quantity_milli(x)]
	count(qs) == count(raws)
	v := sum(qs)
}

_num_4(item, c) := v if {
	v := _num_1(item, c)
} else := v if {
	v := _num_3(item, c)
}

_num_5(item, _) := v if {
	x := _get(item, ["value"])
	is_string(x)
	regex.match("^[0-9]{1,12}$", x)
	v := to_number(x) * 1000
}
