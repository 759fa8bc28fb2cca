// FunctionsChat on Azure: a Flex Consumption function app with a user-assigned managed identity, identity-based
// storage (no keys), Application Insights with Entra ingestion, and an Azure OpenAI model deployment.
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('Name of the environment; used in resource names and tags (azd sets it).')
param environmentName string

// Regions that offer both the Flex Consumption plan (the list of Microsoft's azd Functions quickstart) and the default
// chat model on GlobalStandard (Azure OpenAI's Global Standard availability table). azd offers only those of them
// where the subscription still has quota for the default deployment.
@minLength(1)
@description('Location of every resource.')
@allowed([
  'australiaeast'
  'brazilsouth'
  'canadacentral'
  'centralus'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'westeurope'
  'westus'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
    usageName: [
      'OpenAI.GlobalStandard.gpt-5.4-mini,30'
    ]
  }
})
param location string

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

// gpt-5.4-mini 2026-03-17 is generally available with retirement scheduled for 2027-09-21; gpt-4o-mini 2024-07-18,
// the previous default, takes no new deployments.
@description('Chat model to deploy in the new Azure OpenAI resource.')
param chatModelName string = 'gpt-5.4-mini'

@description('Version of the chat model.')
param chatModelVersion string = '2026-03-17'

@description('Deployment SKU of the chat model.')
param chatDeploymentSku string = 'GlobalStandard'

@description('Capacity of the chat deployment, in thousands of tokens per minute.')
@minValue(1)
param chatDeploymentCapacity int = 30

@description('Deployment name of the chat model (the new one, or the one in the existing resource); empty means the model name.')
param chatDeploymentName string = ''

@description('Instances kept running for the Durable group (entities, orchestrations, activities); 0 lets it scale to zero.')
@minValue(0)
param durableAlwaysReadyInstances int = 1

@description('A session untouched this long deletes itself and its archive (d.hh:mm:ss); 00:00:00 keeps sessions forever.')
@minLength(1)
param sessionIdleRetention string = '00:00:00'

@description('Durable backend: azureStorage (the default: the task hub in the app\'s storage account) or scheduler (the Durable Task Scheduler, managed).')
@allowed(['azureStorage', 'scheduler'])
param durableBackend string = 'azureStorage'

@description('With durableBackend=scheduler: Consumption (pay per action) or Dedicated (capacity units).')
@allowed(['Consumption', 'Dedicated'])
param schedulerSku string = 'Consumption'

@description('With schedulerSku=Dedicated: capacity units, 1 to 3.')
@minValue(1)
@maxValue(3)
param schedulerCapacity int = 1

@description('Client id of an existing Microsoft Entra app registration; when given, built-in authentication is on and each user gets their own sessions.')
param authClientId string = ''

@description('Tenant of that app registration.')
param authTenantId string = tenant().tenantId

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = { 'azd-env-name': environmentName }
var createOpenAi = empty(existingOpenAiEndpoint)
var chatDeployment = empty(chatDeploymentName) ? chatModelName : chatDeploymentName

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
    deploymentName: chatDeployment
    modelName: chatModelName
    modelVersion: chatModelVersion
    sku: chatDeploymentSku
    capacity: chatDeploymentCapacity
  }
}

var useScheduler = durableBackend == 'scheduler'

module scheduler 'app/scheduler.bicep' = if (useScheduler) {
  name: 'scheduler'
  params: {
    location: location
    tags: tags
    name: 'dts-chat-${token}'
    taskHubName: 'FunctionsChat'
    principalId: identity.properties.principalId
    sku: schedulerSku
    capacity: schedulerCapacity
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  params: {
    location: location
    tags: tags
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
    chatDeploymentName: chatDeployment
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    durableAlwaysReadyInstances: durableAlwaysReadyInstances
    dotnetVersion: dotnetVersion
    sessionIdleRetention: sessionIdleRetention
    schedulerEndpoint: useScheduler ? scheduler!.outputs.endpoint : ''
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

// azd writes every output into the environment, and main.parameters.json reads inputs from it: no output may
// share a name with an input, or the second provision would read this output back as that input.
output FUNCTION_APP_NAME string = api.outputs.name
output FUNCTION_APP_URL string = api.outputs.url
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output APPLICATION_INSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output OPENAI_ENDPOINT string = createOpenAi ? openAi!.outputs.endpoint : existingOpenAiEndpoint
output IDENTITY_CLIENT_ID string = identity.properties.clientId
output IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
output AUTH_MODE string = api.outputs.authMode
output DURABLE_TASK_SCHEDULER_ENDPOINT string = useScheduler ? scheduler!.outputs.endpoint : ''
