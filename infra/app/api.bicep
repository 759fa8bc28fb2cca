// The Flex Consumption plan and function app. Every connection is by the user-assigned identity: no key,
// connection string with a secret, or SAS in any setting.
param location string
param tags object
param planName string
param appName string
param identityId string
param identityClientId string
param storageAccountName string
param blobEndpoint string
param queueEndpoint string
param tableEndpoint string
param deploymentContainerName string
param applicationInsightsConnectionString string
param openAiEndpoint string
param chatDeploymentName string
param maximumInstanceCount int
param instanceMemoryMB int
param durableAlwaysReadyInstances int
param dotnetVersion string
param sessionIdleRetention string

@description('The Durable Task Scheduler\'s endpoint when it is the Durable backend; empty for Azure Storage.')
param schedulerEndpoint string

@description('Service name in azure.yaml; azd deploys to the resource that carries it in the azd-service-name tag.')
param serviceName string = 'api'

@description('Client id of an Entra app registration; empty leaves built-in authentication off.')
param authClientId string
param authTenantId string

var authMode = empty(authClientId) ? 'None' : 'EasyAuth'

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        // Entities, orchestrations and activities scale as one group; a warm instance polls the task hub's queues,
        // so the first message after a quiet spell does not wait for the platform to start one.
        alwaysReady: durableAlwaysReadyInstances > 0 ? [
          {
            name: 'durable'
            instanceCount: durableAlwaysReadyInstances
          }
        ] : []
      }
      runtime: {
        name: 'dotnet-isolated'
        version: dotnetVersion
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: concat([
        { name: 'AzureWebJobsStorage__accountName', value: storageAccountName }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
        { name: 'AzureWebJobsStorage__blobServiceUri', value: blobEndpoint }
        { name: 'AzureWebJobsStorage__queueServiceUri', value: queueEndpoint }
        { name: 'AzureWebJobsStorage__tableServiceUri', value: tableEndpoint }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
        { name: 'TaskHubName', value: 'FunctionsChat' }
        { name: 'Llm__Provider', value: 'AzureOpenAI' }
        { name: 'Llm__Endpoint', value: openAiEndpoint }
        { name: 'Llm__Model', value: chatDeploymentName }
        { name: 'Llm__ManagedIdentityClientId', value: identityClientId }
        { name: 'Auth__Mode', value: authMode }
        { name: 'Session__IdleRetention', value: sessionIdleRetention }
      ], empty(schedulerEndpoint) ? [] : [
        // The Durable Task Scheduler instead of the storage account's task hub: host.json's storage provider is
        // overridden by these settings (AzureFunctionsJobHost__ paths), and the connection is the app's identity.
        { name: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING', value: 'Endpoint=${schedulerEndpoint};Authentication=ManagedIdentity;ClientID=${identityClientId}' }
        { name: 'AzureFunctionsJobHost__extensions__durableTask__storageProvider__type', value: 'azureManaged' }
        { name: 'AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName', value: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING' }
      ])
    }
  }
}

// Deployment goes through the blob container by the identity; publishing with a user name and password stays off.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

// Built-in authentication: the platform validates Entra tokens for the app registration, answers 401 to anything
// else, and passes the caller to the app in X-MS-CLIENT-PRINCIPAL. Token validation needs no client secret. Without
// a defaultAuthorizationPolicy any user or application of the tenant holding a token for this audience gets in;
// the app keeps each caller to their own sessions.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(authClientId)) {
  parent: app
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${authClientId}'
            authClientId
          ]
        }
      }
    }
  }
}

output name string = app.name
output authMode string = authMode
output url string = 'https://${app.properties.defaultHostName}'
