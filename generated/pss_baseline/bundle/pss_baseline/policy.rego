package pss_baseline

import data.pss_baseline._any_deny
import data.pss_baseline.allow
import data.pss_baseline.deny
import data.pss_baseline.violations
import data.pss_baseline.warn

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
	p := data.pss_baseline.params
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
	"PSS-HOST-PROCESS": "deny",
	"PSS-HOST-NAMESPACES": "deny",
	"PSS-PRIVILEGED": "deny",
	"PSS-CAPABILITIES-BASELINE": "deny",
	"PSS-HOST-PATH-VOLUMES": "deny",
	"PSS-HOST-PORTS": "deny",
	"PSS-HOST-PROBES": "deny",
	"PSS-APPARMOR": "deny",
	"PSS-SELINUX": "deny",
	"PSS-PROC-MOUNT": "deny",
	"PSS-SECCOMP-BASELINE": "deny",
	"PSS-SYSCTLS": "deny",
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

_cond_1(item) if {
	x := item
	is_object(x)
}

_cond_2(item) if {
	not _cond_1(item)
}

_cond_3(item) if {
	x := item
	is_boolean(x)
}

_cond_4(item) if {
	not _cond_3(item)
}

_cond_5(item) if {
	item == true
}

_cond_6(item) if {
	x := item
	is_array(x)
}

_cond_7(item) if {
	not _cond_6(item)
}

_cond_8(item) if {
	x := item
	is_string(x)
}

_cond_9(item) if {
	not _cond_8(item)
}

_cond_10(item) if {
	item in {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
}

_cond_11(item) if {
	not _cond_10(item)
}

_cond_12(item) if {
	item.hostPath != null
}

_cond_13(item) if {
	item.hostPort != null
}

_cond_14(item) if {
	x := item.hostPort
	is_number(x)
	round(x) == x
	x >= -9223372036854775808
	x <= 9223372036854775807
}

_cond_15(item) if {
	not _cond_14(item)
}

_cond_16(item) if {
	item.hostPort == 0
}

_cond_17(item) if {
	not _cond_16(item)
}

_cond_18(item) if {
	item == ""
}

_cond_19(item) if {
	not _cond_18(item)
}

_cond_20(item) if {
	x := item
	is_string(x)
	s := x
	s == ""
}

_cond_20(item) if {
	x := item
	is_string(x)
	s := x
	s == "runtime/default"
}

_cond_20(item) if {
	x := item
	is_string(x)
	s := x
	startswith(s, "localhost/")
}

_cond_21(item) if {
	not _cond_20(item)
}

_cond_22(item) if {
	item.type in {"Localhost", "RuntimeDefault"}
}

_cond_23(item) if {
	not _cond_22(item)
}

_cond_24(item) if {
	item in {"", "container_engine_t", "container_init_t", "container_kvm_t", "container_t"}
}

_cond_25(item) if {
	not _cond_24(item)
}

_cond_26(item) if {
	item == "Default"
}

_cond_27(item) if {
	not _cond_26(item)
}

_cond_28 if {
	_pod.hostUsers == false
}

_cond_29 if {
	not _cond_28
}

_cond_30(item) if {
	x := item.name
	is_string(x)
}

_cond_31(item) if {
	not _cond_30(item)
}

_cond_32(item) if {
	item.name in {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ping_group_range", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_notsent_lowat", "net.ipv4.tcp_rmem", "net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_syncookies", "net.ipv4.tcp_wmem"}
}

_cond_33(item) if {
	not _cond_32(item)
}
