{{/* The release's name prefix, at most 63 characters. */}}
{{- define "pixyz.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "pixyz.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "pixyz.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "pixyz.image" -}}
{{ printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) | quote }}
{{- end -}}

{{- define "pixyz.claimName" -}}
{{- .Values.share.existingClaim | default (printf "%s-share" (include "pixyz.fullname" .)) -}}
{{- end -}}

{{- define "pixyz.apiKeySecret" -}}
{{- .Values.apiKey.existingSecret | default (printf "%s-api-key" (include "pixyz.fullname" .)) -}}
{{- end -}}

{{/* What every pod of the release reads: Temporal, the share, the settings, the credentials. */}}
{{- define "pixyz.env" -}}
- name: TEMPORAL_ADDRESS
  value: {{ .Values.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
- name: TASK_QUEUE_PREFIX
  value: {{ .Values.temporal.taskQueuePrefix | quote }}
- name: SHARE_PATH
  value: /share
- name: LOG_FORMAT
  value: json
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{- define "pixyz.envFrom" -}}
envFrom:
  - secretRef:
      name: {{ .Values.temporal.existingSecret }}
{{- end -}}

{{- define "pixyz.shareVolume" -}}
volumes:
  - name: share
    persistentVolumeClaim:
      claimName: {{ include "pixyz.claimName" . }}
{{- end -}}
