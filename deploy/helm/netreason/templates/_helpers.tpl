{{/* The release's resource name: the release name, or release-chart when it does not contain the chart's. */}}
{{- define "netreason.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "netreason.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "netreason.labels" -}}
{{ include "netreason.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "netreason.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "netreason.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret the pod reads: the one the user manages, or the chart's when it has any key to hold. */}}
{{- define "netreason.secretName" -}}
{{- if .Values.existingSecret -}}
{{- .Values.existingSecret -}}
{{- else -}}
{{- include "netreason.fullname" . -}}
{{- end -}}
{{- end -}}

{{- define "netreason.secretData" -}}
{{- $data := dict -}}
{{- range $key, $value := .Values.secrets -}}
{{- if $value -}}{{- $_ := set $data $key $value -}}{{- end -}}
{{- end -}}
{{- if .Values.database.url -}}{{- $_ := set $data "NETREASON_DATABASE_URL" .Values.database.url -}}{{- end -}}
{{- toJson $data -}}
{{- end -}}

{{- define "netreason.hasSecret" -}}
{{- if or .Values.existingSecret (ne (include "netreason.secretData" .) "{}") -}}true{{- end -}}
{{- end -}}
