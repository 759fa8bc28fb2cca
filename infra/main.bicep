// FunctionsChat on Azure: a Flex Consumption function app with a user-assigned managed identity, identity-based
// storage (no keys), Application Insights with Entra ingestion, and an Azure OpenAI model deployment.
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('Name of the environment; used in resource names and tags (azd sets it).')
param environmentName string

@description('Location of every resource.')
param location string = resourceGroup().location

@description('Largest number of instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('.NET version of the isolated worker; FunctionApp targets net10.0.')
param dotnetVersion string = '10.0'

@description('Endpoint of an existing Azure OpenAI resource to use instead of creating one (give the identity "Cognitive Services OpenAI User" on it).')
param existingOpenAiEndpoint string = ''

@description('Chat model to deploy in the new Azure OpenAI resource.')
param chatModelName string = 'gpt-4o-mini'

@description('Version of the chat model.')
param chatModelVersion string = '2024-07-18'

@description('Deployment SKU of the chat model.')
param chatDeploymentSku string = 'GlobalStandard'

@description('Capacity of the chat deployment, in thousands of tokens per minute.')
@minValue(1)
param chatDeploymentCapacity int = 30

@description('Deployment name of the chat model (the new one, or the one in the existing resource).')
param chatDeploymentName string = chatModelName

@description('Client id of an existing Microsoft Entra app registration; when given, built-in authentication is on and each user gets their own sessions.')
param authClientId string = ''

@description('Tenant of that app registration.')
param authTenantId string = tenant().tenantId

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = { 'azd-env-name': environmentName }
var createOpenAi = empty(existingOpenAiEndpoint)

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-chat-${token}'
  location: location
  tags: tags
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: tags
    logAnalyticsName: 'log-chat-${token}'
    applicationInsightsName: 'appi-chat-${token}'
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    tags: tags
    name: 'stchat${token}'
    deploymentContainerName: 'app-package-${take(token, 8)}'
  }
}

module openAi 'app/openai.bicep' = if (createOpenAi) {
  name: 'openai'
  params: {
    location: location
    tags: tags
    name: 'oai-chat-${token}'
    deploymentName: chatDeploymentName
    modelName: chatModelName
    modelVersion: chatModelVersion
    sku: chatDeploymentSku
    capacity: chatDeploymentCapacity
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  params: {
    location: location
    tags: union(tags, { 'azd-service-name': 'api' })
    planName: 'plan-chat-${token}'
    appName: 'func-chat-${token}'
    identityId: identity.id
    identityClientId: identity.properties.clientId
    storageAccountName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    openAiEndpoint: createOpenAi ? openAi!.outputs.endpoint : existingOpenAiEndpoint
    chatDeploymentName: chatDeploymentName
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    dotnetVersion: dotnetVersion
    authClientId: authClientId
    authTenantId: authTenantId
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  params: {
    principalId: identity.properties.principalId
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    openAiAccountName: createOpenAi ? openAi!.outputs.name : ''
  }
}

output AZURE_LOCATION string = location
output FUNCTION_APP_NAME string = api.outputs.name
output FUNCTION_APP_URL string = api.outputs.url
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output APPLICATION_INSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output OPENAI_ENDPOINT string = createOpenAi ? openAi!.outputs.endpoint : existingOpenAiEndpoint
output IDENTITY_CLIENT_ID string = identity.properties.clientId
output IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
output AUTH_MODE string = api.outputs.authMode
